"""The PAS response against the PAS profiles' required elements (PAS 2.x ``profile-pas-response-
bundle``, ``profile-claimresponse``, ``extension-reviewAction``, ``profile-communicationrequest``)
and FHIR R4 validity, on the answer to every ``fhir-examples/*/`` record in scope."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.communicationrequest import CommunicationRequest

from cds.pas.review_action import ADJUDICATION, REVIEW_ACTION, REVIEW_ACTION_CODE, X12_306

from .bundles import pas_bundle

ROOT = Path(__file__).resolve().parents[2]
CASES = [
    p.parent
    for p in sorted((ROOT / "fhir-examples").glob("*/case.json"))
    if json.loads(p.read_text())["outcomes"]
]
PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition"


def _references(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def _ext(element: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [e for e in element.get("extension", []) if e["url"] == url]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_response_has_what_the_pas_profiles_require(case: Path, apps: Any) -> None:
    meta = json.loads((case / "case.json").read_text())
    request = pas_bundle(
        json.loads((case / "request.json").read_text()), f"shape-{case.name[:2]}", meta["now"]
    )
    body = apps(meta["now"]).post("/fhir/Claim/$submit", json=request).json()

    # PASResponseBundle: collection, identifier, timestamp, entries with fullUrl and resource only,
    # the ClaimResponse first (ClaimResponseFirst) and only once.
    Bundle.model_validate(body)
    assert body["type"] == "collection" and body["identifier"] == request["identifier"]
    assert isinstance(body["timestamp"], str)
    assert all(set(e) == {"fullUrl", "resource"} for e in body["entry"])
    kinds = [e["resource"]["resourceType"] for e in body["entry"]]
    assert kinds[0] == "ClaimResponse" and kinds.count("ClaimResponse") == 1
    urls = [e["fullUrl"] for e in body["entry"]]
    assert len(set(urls)) == len(urls)  # §spec-31

    response = body["entry"][0]["resource"]
    ClaimResponse.model_validate(response)
    assert response["status"] == "active" and response["use"] == "preauthorization"
    assert response["outcome"] in ("complete", "error", "partial")
    assert response["request"]["identifier"] == request["entry"][0]["resource"]["identifier"][0]
    for element in ("patient", "insurer", "requestor", "created", "type"):
        assert element in response, element
    # Every resource the ClaimResponse refers to is in the Bundle (but the Claim, §spec-30).
    refs = set(_references({k: v for k, v in response.items() if k != "request"}))
    assert refs <= set(urls), refs - set(urls)
    # Each item echoes a Claim item's sequence (§spec-34), every Claim item answered once.
    claim_items = [i["sequence"] for i in request["entry"][0]["resource"]["item"]]
    assert [i["itemSequence"] for i in response["item"]] == claim_items
    notes = {n["number"] for n in response.get("processNote", [])}
    for item in response["item"]:
        providers = _ext(item, f"{PAS}/extension-itemAuthorizedProvider")
        assert providers, "authorizedProvider is 1..*"
        assert all(_ext(p, f"{PAS}/extension-authorizedProviderType") for p in providers)
        assert set(item.get("noteNumber", [])) <= notes
        adjudications = item["adjudication"]
        assert adjudications
        for adjudication in adjudications:
            assert adjudication["category"]["coding"] == [{"system": ADJUDICATION, "code": "submitted"}]
        action = _ext(adjudications[0], REVIEW_ACTION)[0]
        codes = _ext(action, REVIEW_ACTION_CODE)
        assert len(codes) == 1
        coding = codes[0]["valueCodeableConcept"]["coding"][0]
        assert coding["system"] == X12_306 and coding["code"] in ("A1", "A3", "A4", "NA")
        numbers = _ext(action, "number")
        if coding["code"] == "A1":
            assert numbers and numbers[0]["valueString"] == response["preAuthRef"]
            assert _ext(item, f"{PAS}/extension-itemPreAuthIssueDate")
        else:
            assert not numbers
            assert item.get("noteNumber"), "a denial or pend says why"
    for entry in body["entry"][1:]:
        resource = entry["resource"]
        if resource["resourceType"] == "CommunicationRequest":
            CommunicationRequest.model_validate(resource)
            assert resource["status"] == "active"
            assert len(resource["identifier"]) <= 1 and len(resource["payload"]) <= 1
            assert isinstance(resource["payload"][0]["contentString"], str)
            assert _ext(resource, f"{PAS}/extension-serviceLineNumber")
