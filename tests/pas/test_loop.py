"""The prior-authorization loop end to end on one service: CRD order-sign says documentation is
needed (with a coverage-assertion-id and the questionnaire), the clinician answers the DTR
questionnaire, the EHR submits the PAS Bundle with the order as CRD updated it and the answers
in supportingInfo: certified, and the CRD assertion id comes back on the item. Without the
answers the same submission is pended and asks for that questionnaire under that id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cds.coverage_information import EXTENSION_URL
from cds.pas.claim_response import ASSERTION_SYSTEM, ITEM_TRACE_NUMBER
from cds.pas.review_action import action_code

from ..conftest import Client
from .bundles import pas_bundle

ROOT = Path(__file__).resolve().parents[2] / "fhir-examples"
NOW = "2026-11-24T10:00:00Z"


def _case(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / name / "request.json").read_text())
    return data


def _with_crd_order(bundle: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "ServiceRequest" and entry["resource"]["id"] == order["id"]:
            entry["resource"] = {**order, "status": "active"}
    return bundle


def test_crd_dtr_pas_loop(client: Client) -> None:
    # CRD: order-sign on the record without answers (example 07) → documentation needed.
    signed = client.post("/cds-services/dli-order-sign", json=_case("07-transplant-status-only")).json()
    order = signed["systemActions"][0]["resource"]
    info = next(e for e in order["extension"] if e["url"] == EXTENSION_URL)
    subs = {e["url"]: e for e in info["extension"]}
    assertion = subs["coverage-assertion-id"]["valueString"]
    questionnaire = subs["questionnaire"]["valueCanonical"]

    # PAS without the answers: pended, asking for that questionnaire under the CRD assertion id.
    pended = client.post(
        "/fhir/Claim/$submit",
        json=_with_crd_order(pas_bundle(_case("07-transplant-status-only"), "loop-a", NOW), order),
    ).json()
    item = pended["entry"][0]["resource"]["item"][0]
    assert action_code(item) == "A4"
    request = next(
        e["resource"] for e in pended["entry"] if e["resource"]["resourceType"] == "CommunicationRequest"
    )
    assert request["identifier"] == [{"system": ASSERTION_SYSTEM, "value": assertion}]
    assert questionnaire in request["note"][0]["text"]

    # DTR answered (example 33: the same record and order plus the completed questionnaire):
    # a new submission is certified, and the CRD assertion id is carried through.
    certified = client.post(
        "/fhir/Claim/$submit",
        json=_with_crd_order(pas_bundle(_case("33-questionnaire-closes-hsct-loop"), "loop-b", NOW), order),
    ).json()
    response = certified["entry"][0]["resource"]
    assert action_code(response["item"][0]) == "A1"
    traces = [e["valueIdentifier"] for e in response["item"][0]["extension"] if e["url"] == ITEM_TRACE_NUMBER]
    assert traces == [{"system": ASSERTION_SYSTEM, "value": assertion}]
    assert response["preAuthRef"].startswith("DLI-")
