"""One decision behind every door: on every ``fhir-examples/`` case, order-dispatch (every draft
order dispatched) answers exactly as order-sign did, and order-select (every draft order
selected) reaches the same outcome per order, with the same coverage information less the
documentation requests (CRD hook-19), over HTTP, with the prefetch and against a FHIR server
holding the record."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cds.coverage_information import EXTENSION_URL, without_documentation_requests
from cds.prefetch import resources_of

from ..conftest import Client
from ..fhir_test_server import fhir_server
from .hook_shapes import dispatch_request, orders_of, select_request

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(p.parent for p in (ROOT / "fhir-examples").glob("*/request.json"))


def _post(client: Client, service: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200, f"{service}: {response.status_code} {response.text}"
    result: dict[str, Any] = response.json()
    return result


def _secondary(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """order-sign's system actions as a secondary hook gives them."""
    out = copy.deepcopy(actions)
    for action in out:
        action["resource"]["extension"] = [
            without_documentation_requests(e) if e.get("url") == EXTENSION_URL else e
            for e in action["resource"]["extension"]
        ]
    return out


def _audited(client: Client, hook_instance: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Per endpoint, the service and the per-order outcomes of its audit row for this call."""
    rows = client.app.state.database.audit_rows(hook_instance=hook_instance, limit=10)
    return {
        row["endpoint"]: (
            row["service"],
            {o["order"]: o["outcome"] for o in json.loads(row["orders"] or "[]")},
        )
        for row in rows
    }


def _agree(case: Path, client: Client, sign_request: dict[str, Any], mode: str, **dispatch: Any) -> None:
    sign_request = {**sign_request, "hookInstance": f"agree-{mode}-{case.name}"}
    sign = _post(client, "dli-order-sign", sign_request)
    dispatched = _post(client, "dli-order-dispatch", dispatch_request(sign_request, **dispatch))
    assert dispatched == sign, f"{case.name}: order-dispatch answers differently from order-sign"
    selected = _post(client, "dli-order-select", select_request(sign_request))
    assert selected["systemActions"] == _secondary(sign["systemActions"]), case.name
    assert [c["uuid"] for c in selected["cards"]] == [c["uuid"] for c in sign["cards"]], case.name
    for action in selected["systemActions"]:
        ext = next(e for e in action["resource"]["extension"] if e["url"] == EXTENSION_URL)
        urls = {e["url"] for e in ext["extension"]}
        assert not urls & {"doc-needed", "doc-purpose", "questionnaire"}, case.name
    expected = json.loads((case / "case.json").read_text())["outcomes"]
    audited = _audited(client, sign_request["hookInstance"])
    assert audited == {
        "order-sign": ("dli-order-sign", expected),
        "order-dispatch": ("dli-order-dispatch", expected),
        "order-select": ("dli-order-select", expected),
    }, f"{case.name}: the doors' audited outcomes differ from case.json"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_three_hooks_agree_with_prefetch(case: Path, apps: Any) -> None:
    meta = json.loads((case / "case.json").read_text())
    _agree(case, apps(meta["now"]), json.loads((case / "request.json").read_text()), "prefetch")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_three_hooks_agree_from_a_fhir_server(case: Path, apps: Any) -> None:
    """No prefetch: the record, and for order-dispatch the orders themselves, are read from the
    FHIR server."""
    meta = json.loads((case / "case.json").read_text())
    request = json.loads((case / "request.json").read_text())
    record = [r for value in request.get("prefetch", {}).values() for r in resources_of(value)]
    bare = copy.deepcopy(request)
    bare.pop("prefetch", None)
    with fhir_server([*record, *orders_of(request)]) as (base, _log):
        bare["fhirServer"] = base
        _agree(case, apps(meta["now"]), bare, "fhir", orders_in_prefetch=False)
