"""Prefetch under key names that differ from the ones we advertise (issue 19; the Inferno CRD
kit and real EHRs name keys their own way): what a value answers — by its searchset Bundle's
``self`` link, or by content — is taken, and only the rest is read from the FHIR server. The
answer is the golden one on every ``fhir-examples/`` case."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cds.discovery import PREFETCH
from cds.hooks import parse_order_sign
from cds.prefetch import answers, render, resources_of

from ..fhir_test_server import fhir_server

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(p.parent for p in (ROOT / "fhir-examples").glob("*/request.json"))
URL = "/cds-services/dli-order-sign"


def _renamed(request: dict[str, Any], *, self_links: bool) -> dict[str, Any]:
    """Every prefetch key renamed; with ``self_links``, each searchset Bundle says which search
    it answers (as a FHIR server's Bundle does)."""
    out = copy.deepcopy(request)
    parsed = parse_order_sign(request)
    prefetch = {}
    for key, value in (request.get("prefetch") or {}).items():
        value = copy.deepcopy(value)
        query = render(PREFETCH[key], parsed) if key in PREFETCH else None
        if self_links and query and isinstance(value, dict) and value.get("resourceType") == "Bundle":
            value["link"] = [{"relation": "self", "url": f"https://ehr.example.org/fhir/{query}"}]
        # A null (no data) cannot be told apart under another name: it keeps ours.
        prefetch[f"ehr-{key}" if value is not None else key] = value
    out["prefetch"] = prefetch
    return out


def _golden(case: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((case / "expected.json").read_text())
    return result


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_renamed_keys_with_self_links_need_no_fetch(case: Path, apps: Any) -> None:
    meta = json.loads((case / "case.json").read_text())
    request = json.loads((case / "request.json").read_text())
    renamed = _renamed(request, self_links=True)
    renamed.pop("fhirServer", None)  # nothing may be missing
    renamed.pop("fhirAuthorization", None)
    response = apps(meta["now"]).post(URL, json=renamed)
    assert response.status_code == 200, response.text
    assert response.json() == _golden(case)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_renamed_keys_matched_by_content(case: Path, apps: Any) -> None:
    meta = json.loads((case / "case.json").read_text())
    request = json.loads((case / "request.json").read_text())
    record = [r for value in (request.get("prefetch") or {}).values() for r in resources_of(value)]
    renamed = _renamed(request, self_links=False)
    with fhir_server(record) as (base, log):
        renamed["fhirServer"] = base
        response = apps(meta["now"]).post(URL, json=renamed)
    assert response.status_code == 200, response.text
    assert response.json() == _golden(case)
    fetched = {path.split("?")[0].rsplit("/fhir/", 1)[-1] for path, _ in log}
    for key, value in (request.get("prefetch") or {}).items():
        if key in PREFETCH and resources_of(value) and meta["outcomes"]:
            query = render(PREFETCH[key], parse_order_sign(request))
            assert query is not None
            if answers(value, query, request["context"]["patientId"]):
                assert query.split("?")[0] not in fetched or _shared_type(key), f"{key} was fetched again"


def _shared_type(key: str) -> bool:
    """Observation keys share one resource type: fetching one does not mean another was."""
    return PREFETCH[key].startswith("Observation")


def test_a_value_answers_by_content_only_when_every_resource_fits() -> None:
    labs = {
        "resourceType": "Observation",
        "status": "final",
        "subject": {"reference": "Patient/p"},
        "category": [{"coding": [{"code": "laboratory"}]}],
    }
    social = {**labs, "category": [{"coding": [{"code": "social-history"}]}]}
    bundle = {"resourceType": "Bundle", "entry": [{"resource": labs}]}
    query = "Observation?patient=p&category=laboratory"
    assert answers(bundle, query, "p")
    assert not answers(
        {"resourceType": "Bundle", "entry": [{"resource": labs}, {"resource": social}]}, query, "p"
    )
    assert not answers(bundle, query, "someone-else")
    assert not answers({"resourceType": "Bundle", "entry": []}, query, "p")  # empty: no evidence
    linked = {
        "resourceType": "Bundle",
        "entry": [],
        "link": [
            {"relation": "self", "url": "https://ehr/fhir/Observation?category=laboratory&patient=Patient/p"}
        ],
    }
    assert answers(linked, query, "p")
    assert not answers(linked, "Observation?patient=p&category=social-history", "p")
    assert answers({"resourceType": "Patient", "id": "p"}, "Patient/p", "p")
    assert not answers({"resourceType": "Patient", "id": "q"}, "Patient/p", "p")
