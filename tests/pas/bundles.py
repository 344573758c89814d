"""A PAS request Bundle built from an order-sign request (``fhir-examples/*/request.json``), as
a provider's EHR would send it after CRD/DTR: the draft orders become the requested services
(status active), one Claim item each, the prefetched record the supporting information, the
user the requesting PractitionerRole. Used by the agreement test (PAS and order-sign decide
alike on every record) and to write the PAS goldens under ``fhir-examples/pas/``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from cds.prefetch import resources_of

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://ehr.example.org/fhir"
PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition"
NPI = "http://hl7.org/fhir/sid/us-npi"
CLINICAL = (
    "Condition",
    "Observation",
    "Procedure",
    "MedicationRequest",
    "Goal",
    "QuestionnaireResponse",
    "DiagnosticReport",
    "MedicationStatement",
)


def _url(resource: dict[str, Any]) -> str:
    return f"{BASE}/{resource['resourceType']}/{resource['id']}"


def _ref(resource: dict[str, Any]) -> dict[str, Any]:
    return {"reference": f"{resource['resourceType']}/{resource['id']}"}


def pas_bundle(request: dict[str, Any], claim_id: str, created: str) -> dict[str, Any]:
    """The PAS request Bundle for ``request``; ``claim_id`` its Claim identifier's value."""
    patient_id = request["context"]["patientId"]
    record: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for value in (request.get("prefetch") or {}).values():
        for resource in resources_of(value):
            key = (resource["resourceType"], str(resource.get("id")))
            if key not in seen:
                seen.add(key)
                record.append(copy.deepcopy(resource))
    patient = next((r for r in record if r["resourceType"] == "Patient"), None)
    if patient is None:
        patient = {"resourceType": "Patient", "id": patient_id}
        record.insert(0, patient)
    coverage = next((r for r in record if r["resourceType"] == "Coverage"), None)
    if coverage is None:  # a provider submits a prior authorization for a Coverage
        coverage = {
            "resourceType": "Coverage",
            "id": f"cov-{patient_id}",
            "status": "active",
            "subscriberId": f"MBR-{patient_id}",
            "beneficiary": {"reference": f"Patient/{patient_id}"},
            "payor": [{"reference": "Organization/plan"}],
        }
        record.append(coverage)
    insurer = {"resourceType": "Organization", "id": "plan", "name": "Example Health Plan"}
    user = str(request["context"].get("userId") or "Practitioner/requester").split("/")[-1]
    practitioner = {
        "resourceType": "Practitioner",
        "id": user,
        "identifier": [{"system": NPI, "value": "1234567893"}],
        "name": [{"family": "Requester"}],
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": f"role-{user}",
        "practitioner": _ref(practitioner),
        "organization": {"reference": "Organization/clinic"},
    }
    clinic = {
        "resourceType": "Organization",
        "id": "clinic",
        "identifier": [{"system": NPI, "value": "1316923541"}],
        "name": "Example Transplant Clinic",
    }
    orders = []
    for i, entry in enumerate((request["context"].get("draftOrders") or {}).get("entry") or []):
        order = copy.deepcopy(entry["resource"])
        order.setdefault("id", f"order-{i + 1}")
        if order.get("status") == "draft":
            order["status"] = "active"
        orders.append(order)
    claim = {
        "resourceType": "Claim",
        "id": claim_id,
        "identifier": [{"system": "urn:trnorg:1316923541", "value": claim_id}],
        "status": "active",
        "type": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]
        },
        "use": "preauthorization",
        "patient": _ref(patient),
        "created": created,
        "insurer": _ref(insurer),
        "provider": _ref(role),
        "priority": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]
        },
        "insurance": [{"sequence": 1, "focal": True, "coverage": _ref(coverage)}],
        "item": [_item(n, order) for n, order in enumerate(orders, start=1)],
    }
    supporting = [r for r in record if r["resourceType"] in CLINICAL]
    if supporting:
        claim["supportingInfo"] = [_info(n, r) for n, r in enumerate(supporting, start=1)]
    resources = [claim, *orders, *record, insurer, role, practitioner, clinic]
    return {
        "resourceType": "Bundle",
        "identifier": {"system": "http://ehr.example.org/pas-transactions", "value": f"tx-{claim_id}"},
        "type": "collection",
        "timestamp": created,
        "entry": [{"fullUrl": _url(r), "resource": r} for r in resources],
    }


def _item(sequence: int, order: dict[str, Any]) -> dict[str, Any]:
    codes = [c for c in (order.get("code") or {}).get("coding") or [] if c.get("code")]
    return {
        "extension": [
            {
                "url": f"{PAS}/extension-serviceItemRequestType",
                "valueCodeableConcept": {
                    "coding": [{"system": "https://codesystem.x12.org/005010/1525", "code": "HS"}]
                },
            },
            {
                "url": f"{PAS}/extension-certificationType",
                "valueCodeableConcept": {
                    "coding": [{"system": "https://codesystem.x12.org/005010/1322", "code": "I"}]
                },
            },
            {"url": f"{PAS}/extension-requestedService", "valueReference": _ref(order)},
        ],
        "sequence": sequence,
        "category": {"coding": [{"system": "https://codesystem.x12.org/005010/1365", "code": "1"}]},
        "productOrService": {"coding": codes[:1]} if codes else {"text": "requested service"},
        "locationCodeableConcept": {
            "coding": [
                {
                    "system": "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set",
                    "code": "22",
                }
            ]
        },
    }


def _info(sequence: int, resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "extension": [
            {
                "url": f"{PAS}/extension-documentInformation",
                "extension": [
                    {
                        "url": "reportTypeCode",
                        "valueCodeableConcept": {
                            "coding": [{"system": "https://codesystem.x12.org/005010/755", "code": "PY"}]
                        },
                    }
                ],
            }
        ],
        "sequence": sequence,
        "category": {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes",
                    "code": "additionalInformation",
                }
            ]
        },
        "valueReference": _ref(resource),
    }


def example_request(case: str) -> dict[str, Any]:
    """The order-sign request of the example ``case`` (a folder of ``fhir-examples``)."""
    data: dict[str, Any] = json.loads((ROOT / "fhir-examples" / case / "request.json").read_text())
    return data


def inquiry_bundle(bundle: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An inquiry Bundle made from a submission: its own identifier, the same patient and provider."""
    inquiry = copy.deepcopy(bundle)
    inquiry["identifier"] = {"system": "http://ehr.example.org/pas-inquiries", "value": "inq-1"}
    claim = inquiry["entry"][0]["resource"]
    claim["identifier"] = [{"system": "urn:trnorg:1316923541", "value": "inq-1"}]
    for item in claim["item"]:
        item["extension"] = [e for e in item["extension"] if not e["url"].endswith("requestedService")]
    claim.pop("supportingInfo", None)
    for key, value in changes.items():
        claim[key] = value
    return inquiry
