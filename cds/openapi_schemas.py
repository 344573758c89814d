"""The schemas and response pieces of the OpenAPI document (``cds/openapi.py``): the CDS Hooks
requests and responses, and the helpers the door modules' path builders share (an
OperationOutcome response, a JSON request body, the common POST errors).
"""

from __future__ import annotations

import copy
from typing import Any

from cds.discovery import HOOK, PREFETCH
from cds.hooks import FHIR_SERVER_PATTERN, ORDER_REFERENCE_PATTERN, ORDER_TYPES, USER_PATTERN

JSON = "application/json"
FHIR_JSON = "application/fhir+json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_RESOURCE = {
    "type": "object",
    "required": ["resourceType"],
    "properties": {"resourceType": {"type": "string"}},
}

SCHEMAS: dict[str, Any] = {
    "OperationOutcome": {
        "type": "object",
        "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": {"const": "OperationOutcome"},
            "issue": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["severity", "code"],
                    "properties": {
                        "severity": {"enum": ["fatal", "error", "warning", "information"]},
                        "code": {"type": "string", "minLength": 1},
                        "diagnostics": {"type": "string", "minLength": 1},
                        "expression": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
    "Resource": _RESOURCE,
    "OrderSignRequest": {
        "type": "object",
        "required": ["hook", "hookInstance", "context"],
        "properties": {
            "hook": {"const": HOOK},
            "hookInstance": {"type": "string", "minLength": 1},
            "fhirServer": {"type": ["string", "null"], "pattern": FHIR_SERVER_PATTERN},
            "fhirAuthorization": {
                "type": ["object", "null"],
                "properties": {
                    "access_token": {"type": "string"},
                    "token_type": {"type": "string"},
                    "expires_in": {"description": "Not used; any value is accepted"},
                    "scope": {"type": ["string", "null"]},
                    "subject": {"type": ["string", "null"]},
                    "patient": {"type": ["string", "null"]},
                },
            },
            "context": {
                "type": "object",
                "required": ["userId", "patientId", "draftOrders"],
                "properties": {
                    "userId": {"type": "string", "pattern": USER_PATTERN},
                    "patientId": {"type": "string", "pattern": r"\S"},
                    "encounterId": {"type": ["string", "null"]},
                    "draftOrders": {
                        "type": "object",
                        "required": ["resourceType"],
                        "properties": {
                            "resourceType": {"const": "Bundle"},
                            "type": {"type": ["string", "null"]},
                            "entry": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["resource"],
                                    "properties": {
                                        "resource": {
                                            "type": "object",
                                            "required": ["resourceType"],
                                            "properties": {"resourceType": {"enum": sorted(ORDER_TYPES)}},
                                        }
                                    },
                                },
                            },
                        },
                    },
                },
            },
            "prefetch": {
                "description": "Prefetch values by key: a resource or Bundle, null for no data, "
                "an OperationOutcome for a key the EHR failed to fetch. Unknown keys are ignored.",
                "type": ["object", "null"],
                "properties": {key: {"anyOf": [{"type": "null"}, _ref("Resource")]} for key in PREFETCH},
            },
            "extension": {"type": ["object", "null"]},
        },
    },
    "FeedbackRequest": {
        "type": "object",
        "required": ["feedback"],
        "properties": {
            "feedback": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["card", "outcome", "outcomeTimestamp"],
                    "properties": {
                        "card": {"type": "string", "minLength": 1},
                        "outcome": {"enum": ["accepted", "overridden"]},
                        "outcomeTimestamp": {
                            "type": "string",
                            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$",
                        },
                        "acceptedSuggestions": {
                            "type": ["array", "null"],
                            "items": {
                                "type": "object",
                                "required": ["id"],
                                "properties": {"id": {"type": "string"}},
                            },
                        },
                        "overrideReason": {
                            "type": ["object", "null"],
                            "properties": {
                                "reason": {
                                    "type": ["object", "null"],
                                    "properties": {
                                        "system": {"type": ["string", "null"]},
                                        "code": {"type": ["string", "null"]},
                                        "display": {"type": ["string", "null"]},
                                    },
                                },
                                "userComment": {"type": ["string", "null"]},
                            },
                        },
                    },
                },
            }
        },
    },
    "CdsResponse": {
        "type": "object",
        "required": ["cards"],
        "properties": {
            "cards": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["summary", "indicator", "source"],
                    "properties": {
                        "uuid": {"type": "string"},
                        "summary": {"type": "string", "minLength": 1, "maxLength": 140},
                        "indicator": {"enum": ["info", "warning", "critical"]},
                        "source": {
                            "type": "object",
                            "required": ["label"],
                            "properties": {"label": {"type": "string", "minLength": 1}},
                        },
                    },
                },
            },
            "systemActions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "description"],
                    "properties": {
                        "type": {"enum": ["create", "update", "delete"]},
                        "description": {"type": "string", "minLength": 1},
                        "resource": _ref("Resource"),
                    },
                },
            },
        },
    },
    "Discovery": {
        "type": "object",
        "required": ["services"],
        "properties": {
            "services": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["hook", "id", "description"],
                    "properties": {
                        "hook": {"type": "string"},
                        "id": {"type": "string"},
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "prefetch": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
            }
        },
    },
}


_ORDER_REFERENCE = {"type": "string", "pattern": ORDER_REFERENCE_PATTERN}


def _select_request() -> dict[str, Any]:
    schema: dict[str, Any] = copy.deepcopy(SCHEMAS["OrderSignRequest"])
    schema["properties"]["hook"] = {"const": "order-select"}
    context = schema["properties"]["context"]
    context["required"] = [*context["required"], "selections"]
    context["properties"]["selections"] = {"type": "array", "minItems": 1, "items": _ORDER_REFERENCE}
    return schema


def _dispatch_request() -> dict[str, Any]:
    schema: dict[str, Any] = copy.deepcopy(SCHEMAS["OrderSignRequest"])
    schema["properties"]["hook"] = {"const": "order-dispatch"}
    schema["properties"]["context"] = {
        "type": "object",
        "description": "dispatchedOrders (CDS Hooks order-dispatch) or order (the Inferno CRD kit's "
        "single reference), or both; at least one order.",
        "required": ["patientId"],
        "anyOf": [{"required": ["dispatchedOrders"]}, {"required": ["order"]}],
        "properties": {
            "patientId": {"type": "string", "pattern": r"\S"},
            "dispatchedOrders": {"type": ["array", "null"], "items": _ORDER_REFERENCE},
            "order": {"anyOf": [{"type": "null"}, _ORDER_REFERENCE]},
            "performer": {"type": ["string", "null"]},
        },
    }
    return schema


SCHEMAS["OrderSelectRequest"] = _select_request()
SCHEMAS["OrderDispatchRequest"] = _dispatch_request()


def _outcome(description: str) -> dict[str, Any]:
    return {"description": description, "content": {FHIR_JSON: {"schema": _ref("OperationOutcome")}}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": _ref(name)}}}


def _post_errors() -> dict[str, Any]:
    return {
        "400": _outcome("Malformed JSON, a request that breaks CDS Hooks, or invalid FHIR data"),
        "413": _outcome("The request body exceeds the configured size limit"),
        "500": _outcome("Internal error (never a traceback)"),
        "503": _outcome(
            "The call's audit record could not be stored (database and local journal both unavailable)"
        ),
    }
