"""CRD side of DTR: a documentation-needed answer names the questionnaire version-specific, and
the card offers the DTR app as a SMART link (with appContext) when one is configured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cds.app import create_app
from tests.conftest import NOW, Client, make_settings

ROOT = Path(__file__).resolve().parents[2]
APP_URL = "https://dtr.example.org/launch"


def _sign(tmp_path: Path, case: str, **settings: Any) -> dict[str, Any]:
    app = create_app(make_settings(tmp_path, **settings), clock=lambda: NOW)
    try:
        request = json.loads((ROOT / "fhir-examples" / case / "request.json").read_text())
        response = Client(app).post("/cds-services/dli-order-sign", json=request)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body
    finally:
        app.state.database.close()


def _coverage_info(body: dict[str, Any]) -> dict[str, Any]:
    ext = body["systemActions"][0]["resource"]["extension"]
    info = next(e for e in ext if e["url"].endswith("ext-coverage-information"))
    return {e["url"]: e for e in info["extension"]}


def test_documentation_needed_card_launches_the_dtr_app(tmp_path: Path) -> None:
    body = _sign(tmp_path, "07-transplant-status-only", dtr_app_url=APP_URL)
    info = _coverage_info(body)
    assert info["doc-needed"]["valueCode"] == "clinical"
    assert info["questionnaire"]["valueCanonical"].endswith("/fhir/Questionnaire/dli-cp-mp-101|1.1.0")
    smart = [link for link in body["cards"][0]["links"] if link["type"] == "smart"]
    assert len(smart) == 1 and smart[0]["url"] == APP_URL
    context = json.loads(smart[0]["appContext"])
    assert context["order"] == "ServiceRequest/dli-1"
    assert context["coverage"] == info["coverage"]["valueReference"]["reference"]
    assert context["coverageAssertionId"] == info["coverage-assertion-id"]["valueString"]
    assert context["questionnaire"] == [info["questionnaire"]["valueCanonical"]]
    assert "Complete the DLI questionnaire" in body["cards"][0]["detail"]


@pytest.mark.parametrize(
    ("case", "app_url"), [("07-transplant-status-only", ""), ("01-meets-aml-relapse-prevention", APP_URL)]
)
def test_no_smart_link_without_an_app_or_a_documentation_need(
    tmp_path: Path, case: str, app_url: str
) -> None:
    body = _sign(tmp_path, case, dtr_app_url=app_url)
    assert all(link["type"] != "smart" for card in body["cards"] for link in card["links"])
