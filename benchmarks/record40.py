"""The benchmark record: a realistic 40-resource patient record built from example 02.

Example 02 (AML/CML after allogeneic HSCT with mixed chimerism) is padded with the kind of
history a real record carries: older chimerism results, routine labs, resolved problems,
older smoking statuses, goals and medications, until it holds 40 resources.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASE_CASE = ROOT / "fhir-examples" / "02-meets-mixed-chimerism-cml"
TARGET = 40


def _resources(request: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for value in request["prefetch"].values():
        if not value:
            continue
        if value.get("resourceType") == "Bundle":
            out.extend(e["resource"] for e in value.get("entry", []))
        else:
            out.append(value)
    return out


def _padding(pid: str, count: int) -> list[dict[str, Any]]:
    extra: list[dict[str, Any]] = []
    lab = {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}
        ]
    }
    for i in range(count):
        kind = i % 4
        if kind == 0:
            extra.append(
                {
                    "resourceType": "Observation",
                    "id": f"chim-{i}",
                    "status": "final",
                    "category": [lab],
                    "code": {
                        "coding": [{"system": "http://loinc.org", "code": "102113-8"}],
                        "text": "Chimerism, donor %",
                    },
                    "subject": {"reference": f"Patient/{pid}"},
                    "effectiveDateTime": f"2026-0{1 + i % 8}-15",
                    "valueQuantity": {
                        "value": 80 + i % 15,
                        "unit": "%",
                        "system": "http://unitsofmeasure.org",
                        "code": "%",
                    },
                }
            )
        elif kind == 1:
            extra.append(
                {
                    "resourceType": "Observation",
                    "id": f"hgb-{i}",
                    "status": "final",
                    "category": [lab],
                    "code": {
                        "coding": [{"system": "http://loinc.org", "code": "718-7", "display": "Hemoglobin"}]
                    },
                    "subject": {"reference": f"Patient/{pid}"},
                    "effectiveDateTime": f"2026-0{1 + i % 8}-10",
                    "valueQuantity": {
                        "value": 11.2,
                        "unit": "g/dL",
                        "system": "http://unitsofmeasure.org",
                        "code": "g/dL",
                    },
                }
            )
        elif kind == 2:
            extra.append(
                {
                    "resourceType": "Condition",
                    "id": f"cond-{i}",
                    "clinicalStatus": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                "code": "resolved",
                            }
                        ]
                    },
                    "code": {
                        "coding": [
                            {
                                "system": "http://hl7.org/fhir/sid/icd-10-cm",
                                "code": "J06.9",
                                "display": "Acute upper respiratory infection, unspecified",
                            }
                        ]
                    },
                    "subject": {"reference": f"Patient/{pid}"},
                    "onsetDateTime": "2025-12-01",
                    "abatementDateTime": "2025-12-20",
                }
            )
        else:
            extra.append(
                {
                    "resourceType": "MedicationRequest",
                    "id": f"med-{i}",
                    "status": "active",
                    "intent": "order",
                    "medicationCodeableConcept": {
                        "coding": [
                            {
                                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                "code": "197310",
                                "display": "acyclovir 400 MG Oral Tablet",
                            }
                        ]
                    },
                    "subject": {"reference": f"Patient/{pid}"},
                    "authoredOn": "2026-01-05",
                }
            )
    return extra


def record40() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(record resources, draft orders, the order-sign request with all of it in prefetch)."""
    request = json.loads((BASE_CASE / "request.json").read_text())
    resources = _resources(request)
    pid = request["context"]["patientId"]
    resources += _padding(pid, TARGET - len(resources))
    orders = [e["resource"] for e in request["context"]["draftOrders"]["entry"]]
    full = copy.deepcopy(request)
    by_key: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        key = {
            "Condition": "conditions",
            "Procedure": "procedures",
            "MedicationRequest": "medicationRequests",
            "Goal": "goals",
            "QuestionnaireResponse": "questionnaireResponses",
            "Coverage": "coverage",
        }.get(r["resourceType"])
        if r["resourceType"] == "Observation":
            cats = {c["code"] for cat in r.get("category", []) for c in cat.get("coding", [])}
            key = "labObservations" if "laboratory" in cats else "socialObservations"
        if key:
            by_key.setdefault(key, []).append(r)
    for key, items in by_key.items():
        full["prefetch"][key] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(items),
            "entry": [{"resource": r} for r in items],
        }
    assert len(resources) == TARGET
    return resources, orders, full
