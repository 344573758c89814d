"""Every ``fhir-examples/pas/*/`` case is a golden test, found by glob: ``bundle.json`` is posted
to the case's operation (``$submit`` or ``$inquire``, after submitting the Bundles of the cases
named in ``after``) on a fresh service; the status and the body must equal ``case.json`` and
``expected.json``, and the per-order outcomes read back from the review actions those of
``case.json``. ``UPDATE_GOLDENS=1`` rewrites ``expected.json`` (review the diff)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from cds.app import create_app

from ..conftest import Client, make_settings
from .conftest import outcomes

ROOT = Path(__file__).resolve().parents[2] / "fhir-examples" / "pas"
CASES = sorted(p.parent for p in ROOT.glob("*/case.json"))
UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_pas_example(case: Path, tmp_path: Path) -> None:
    meta = json.loads((case / "case.json").read_text())
    bundle = json.loads((case / "bundle.json").read_text())
    moment = dt.datetime.fromisoformat(meta["now"].replace("Z", "+00:00"))
    app = create_app(make_settings(tmp_path), clock=lambda: moment)
    try:
        client = Client(app)
        earlier: dict[str, dict[str, Any]] = {}
        for name in meta.get("after", []):
            submitted = json.loads((ROOT / name / "bundle.json").read_text())
            assert client.post("/fhir/Claim/$submit", json=submitted).status_code == 200
            earlier[submitted["entry"][0]["resource"]["identifier"][0]["value"]] = submitted
        response = client.post(f"/fhir/Claim/${meta['operation']}", json=bundle)
    finally:
        app.state.database.close()
    assert response.status_code == meta["status"], response.text
    body = response.json()
    expected_file = case / "expected.json"
    if UPDATE:
        expected_file.write_text(json.dumps(body, indent=2) + "\n")
    assert body == json.loads(expected_file.read_text())
    if response.status_code != 200:
        assert body["resourceType"] == "OperationOutcome"
        return
    if meta["operation"] == "submit":
        assert outcomes(bundle, body) == meta["outcomes"]
        return
    found: dict[str, str] = {}
    for parameter in body.get("parameter", []):
        claim_id = parameter["resource"]["entry"][0]["resource"]["request"]["identifier"]["value"]
        found.update(outcomes(earlier[claim_id], parameter["resource"]))
    assert found == meta["outcomes"]
