"""The workbench pages over HTTP: on in the quick start, absent when disabled or with auth
required, each example's page shows the outcomes the service decides, text is escaped."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cds.app import create_app
from tests.conftest import NOW, Client, make_settings

EXAMPLES = Path(__file__).resolve().parents[2] / "fhir-examples"
CASES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "case.json").is_file())


@pytest.fixture
def client_factory(tmp_path: Path) -> Iterator[Callable[..., Client]]:
    apps: list[Any] = []

    def make(**overrides: Any) -> Client:
        app = create_app(make_settings(tmp_path, **overrides), clock=lambda: NOW)
        apps.append(app)
        return Client(app)

    yield make
    for app in apps:
        app.state.database.close()


@pytest.mark.parametrize("path", ["/workbench/", "/workbench/activity", f"/workbench/examples/{CASES[0]}"])
@pytest.mark.parametrize("overrides", [{"workbench": False}, {"auth_mode": "required"}])
def test_absent_when_disabled(client_factory: Any, path: str, overrides: dict[str, Any]) -> None:
    response = client_factory(**overrides).get(path)
    assert response.status_code == 404


def test_index_lists_every_example(client: Client) -> None:
    page = client.get("/workbench/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for name in CASES:
        assert f'href="/workbench/try?example={name}"' in page.text


@pytest.mark.parametrize("name", CASES)
def test_example_shows_decided_outcomes(client: Client, name: str) -> None:
    outcomes = json.loads((EXAMPLES / name / "case.json").read_text())["outcomes"]
    page = client.get(f"/workbench/examples/{name}")
    assert page.status_code == 200
    for order, outcome in outcomes.items():
        assert f"<td>{order}</td><td>{outcome}</td>" in page.text


def test_unknown_example_is_404(client: Client) -> None:
    assert client.get("/workbench/examples/..%2Fcds").status_code == 404
    assert client.get("/workbench/examples/nope").status_code == 404


def test_script_in_display_text_renders_as_text(tmp_path: Path, client_factory: Any) -> None:
    folder = tmp_path / "examples" / "evil"
    shutil.copytree(EXAMPLES / CASES[0], folder)
    request = json.loads((folder / "request.json").read_text())
    payload = "<script>alert(1)</script>"
    for order in request["context"]["draftOrders"]["entry"]:
        coding = order["resource"].setdefault("code", {}).setdefault("coding", [{}])
        coding[0]["display"] = payload
        order["resource"]["code"]["text"] = payload
    (folder / "request.json").write_text(json.dumps(request))
    page = client_factory(examples_dir=tmp_path / "examples").get("/workbench/examples/evil")
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_activity_shows_no_secret(client: Client) -> None:
    request = json.loads((EXAMPLES / CASES[0] / "request.json").read_text())
    client.post(
        "/cds-services/dli-order-sign", json=request, headers={"Authorization": "Bearer SECRET-TOKEN"}
    )
    page = client.get("/workbench/activity")
    assert page.status_code == 200
    assert "SECRET-TOKEN" not in page.text
    assert "order-sign" in page.text
    assert '"resourceType"' not in page.text and "&quot;resourceType&quot;" not in page.text
