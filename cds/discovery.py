"""The CDS Hooks discovery document: the order-sign, order-dispatch (CRD primary hooks) and
order-select (secondary) services, each with the same prefetch templates and the Da Vinci CRD
extensions (supported versions, configuration options: they apply to all three)."""

from __future__ import annotations

from typing import Any

SERVICE_ID = "dli-order-sign"
HOOK = "order-sign"
SELECT_SERVICE_ID = "dli-order-select"
DISPATCH_SERVICE_ID = "dli-order-dispatch"
SERVICES: dict[str, str] = {  # hook -> service id
    HOOK: SERVICE_ID,
    "order-dispatch": DISPATCH_SERVICE_ID,
    "order-select": SELECT_SERVICE_ID,
}
CRD_VERSIONS = ["2.0", "2.1", "2.2"]
CARD_TYPE = "guideline"

PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "coverage": "Coverage?patient={{context.patientId}}&status=active",
    "conditions": "Condition?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "labObservations": "Observation?patient={{context.patientId}}&category=laboratory",
    "socialObservations": "Observation?patient={{context.patientId}}&category=social-history",
    "assessmentObservations": "Observation?patient={{context.patientId}}&category=exam,survey",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}&status=active",
    "goals": "Goal?patient={{context.patientId}}",
    "questionnaireResponses": "QuestionnaireResponse?patient={{context.patientId}}&status=completed",
}

CONFIGURATION_OPTIONS: list[dict[str, Any]] = [
    {
        "code": "coverage-info",
        "type": "boolean",
        "name": "Coverage Information",
        "description": "Return the CRD coverage-information system action for each DLI order.",
        "default": True,
    },
    {
        "code": CARD_TYPE,
        "type": "boolean",
        "name": "Medical necessity card",
        "description": "Return a card per DLI order listing every CP.MP.101 criterion as met, not met or unknown.",
        "default": True,
    },
    {
        "code": "max-cards",
        "type": "integer",
        "name": "Maximum cards",
        "description": "The largest number of cards to return.",
        "default": 10,
    },
]


def discovery_document(auth_off: bool) -> dict[str, Any]:
    description = (
        "Decides the health plan's medical-necessity policy CP.MP.101 for donor lymphocyte infusion "
        "orders (CPT 38242, and 38215/86950/HCPCS S2150 with a DLI): criteria met, not medically "
        "necessary, or documentation needed, with the CRD coverage information and a card listing "
        "every criterion with its evidence."
    )
    if auth_off:
        description += (
            " WARNING: client authentication is OFF (embedded quick start); do not use with real data."
        )
    titles = {
        HOOK: "Donor lymphocyte infusion (CP.MP.101) coverage requirements",
        "order-dispatch": "Donor lymphocyte infusion (CP.MP.101) coverage requirements at dispatch",
        "order-select": "Donor lymphocyte infusion (CP.MP.101) early guidance",
    }
    usage = {
        HOOK: (
            "Send the draft orders and, ideally, the prefetch below; what is missing is read from "
            "fhirServer with the access token given. Answers are for ServiceRequest orders."
        ),
        "order-dispatch": (
            "Send dispatchedOrders (references) and, ideally, the orders and the prefetch below; what is "
            "missing is read from fhirServer. Answers are for ServiceRequest orders."
        ),
        "order-select": (
            "Guidance while a DLI order is being selected: the outcome so far and what will be needed. "
            "Coverage information carries no documentation requests; incomplete data is answered, never refused."
        ),
    }
    return {
        "services": [
            {
                "hook": hook,
                "id": service_id,
                "title": titles[hook],
                "description": description,
                "usageRequirements": usage[hook],
                "prefetch": dict(PREFETCH),
                "extension": {
                    "davinci-crd.version": CRD_VERSIONS,
                    "davinci-crd.configuration-options": CONFIGURATION_OPTIONS,
                },
            }
            for hook, service_id in SERVICES.items()
        ]
    }
