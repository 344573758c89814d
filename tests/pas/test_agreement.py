"""PAS and order-sign decide alike: for every ``fhir-examples/*/`` record (found by glob), the PAS
Bundle built from the order-sign request gets, per requested order, the outcome ``case.json``
records for order-sign; a record with nothing in scope is refused (422) by ``$submit``, which
reviews DLI only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .bundles import pas_bundle
from .conftest import outcomes

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(p.parent for p in (ROOT / "fhir-examples").glob("*/request.json"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_pas_agrees_with_order_sign(case: Path, apps: Any) -> None:
    meta = json.loads((case / "case.json").read_text())
    request = json.loads((case / "request.json").read_text())
    bundle = pas_bundle(request, f"agree-{case.name[:2]}", meta["now"])
    response = apps(meta["now"]).post("/fhir/Claim/$submit", json=bundle)
    if not meta["outcomes"]:
        assert response.status_code == 422, response.text
        issue = response.json()["issue"][0]
        assert issue["expression"] == ["Bundle.entry[0].resource.item"]
        return
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert outcomes(bundle, response.json()) == meta["outcomes"]
