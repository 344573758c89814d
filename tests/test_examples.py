"""Every ``fhir-examples/*/`` case is a golden test, found by glob and run twice: with its
prefetch, and with no prefetch against a local FHIR server (``tests/fhir_test_server.py``)
holding the same record. Both answers must equal ``expected.json``; the per-order outcomes must
be those of ``case.json``. ``UPDATE_GOLDENS=1`` rewrites ``expected.json`` (review the diff)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from cds.prefetch import resources_of

from .fhir_test_server import fhir_server

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted(p.parent for p in (ROOT / "fhir-examples").glob("*/request.json"))
UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"


def _outcomes(response: dict[str, Any]) -> dict[str, str]:
    """The outcome per order, read back from the coverage information (or the cards)."""
    found: dict[str, str] = {}
    for action in response.get("systemActions", []):
        resource = action["resource"]
        ext = next(e for e in resource["extension"] if e["url"].endswith("ext-coverage-information"))
        subs = {e["url"]: e for e in ext["extension"]}
        covered = subs["covered"]["valueCode"]
        outcome = (
            "not-medically-necessary"
            if covered == "not-covered"
            else "documentation-needed"
            if "doc-needed" in subs
            else "meets-criteria"
        )
        found[f"{resource['resourceType']}/{resource['id']}"] = outcome
    for card in response.get("cards", []):
        detail = card.get("detail", "")
        ref = detail.split("(`", 1)[1].split("`)", 1)[0] if "(`" in detail else None
        summary = card["summary"]
        outcome = (
            "meets-criteria"
            if "criteria met" in summary
            else "not-medically-necessary"
            if "not medically necessary" in summary
            else "documentation-needed"
        )
        if ref:
            found.setdefault(ref, outcome)
    return found


def _check(case: Path, response: dict[str, Any]) -> None:
    expected_file = case / "expected.json"
    if UPDATE:
        expected_file.write_text(json.dumps(response, indent=2) + "\n")
    assert expected_file.exists(), f"{case.name}: no expected.json (run with UPDATE_GOLDENS=1)"
    assert response == json.loads(expected_file.read_text())
    wanted = json.loads((case / "case.json").read_text())["outcomes"]
    assert _outcomes(response) == wanted


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_with_prefetch(case: Path, apps: Any) -> None:
    meta = json.loads((case / "case.json").read_text())
    request = json.loads((case / "request.json").read_text())
    response = apps(meta["now"]).post("/cds-services/dli-order-sign", json=request)
    assert response.status_code == 200, response.text
    _check(case, response.json())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_without_prefetch_from_fhir_server(case: Path, apps: Any) -> None:
    meta = json.loads((case / "case.json").read_text())
    request = json.loads((case / "request.json").read_text())
    record = [r for value in request.get("prefetch", {}).values() for r in resources_of(value)]
    bare = copy.deepcopy(request)
    bare.pop("prefetch", None)
    with fhir_server(record) as (base, log):
        bare["fhirServer"] = base
        response = apps(meta["now"]).post("/cds-services/dli-order-sign", json=bare)
    assert response.status_code == 200, response.text
    if UPDATE:
        return
    _check(case, response.json())
    token = (request.get("fhirAuthorization") or {}).get("access_token")
    in_scope = bool(json.loads((case / "case.json").read_text())["outcomes"])
    if in_scope:
        assert log, "the service should have read the record from the FHIR server"
        assert all(auth == (f"Bearer {token}" if token else None) for _, auth in log)
    else:
        assert not log, "nothing is in scope: the record should not be read"
