"""The OpenAPI 3.1 document of the HTTP surface (served at ``/openapi.json``).

Written out rather than inferred: the routes read raw bodies (size and depth limits come before
JSON parsing), so FastAPI cannot see their request models. The request schemas state what the
service accepts — the CDS Hooks 2.0 order-sign, order-select and order-dispatch requests and feedback, tolerant of unknown fields —
and every error response is an OperationOutcome. Optional members may be ``null`` (read as absent). schemathesis generates requests from it
(``tests/service/test_openapi_fuzz.py``).
"""

from __future__ import annotations

import copy
from typing import Any

from cds.discovery import DISPATCH_SERVICE_ID, HOOK, PREFETCH, SELECT_SERVICE_ID, SERVICE_ID, SERVICES
from cds.dtr.openapi import dtr_paths
from cds.hooks import FHIR_SERVER_PATTERN, ORDER_REFERENCE_PATTERN, ORDER_TYPES, USER_PATTERN
from cds.smart.scopes import SUPPORTED_SCOPES

SERVICE_PATH = f"/cds-services/{SERVICE_ID}"
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


def document(*, version: str, auth_required: bool) -> dict[str, Any]:
    """The OpenAPI document; with authentication required every CDS Hooks call carries a JWT."""
    unauthorized = (
        {"401": {"description": "Missing or invalid client JWT (no body)"}} if auth_required else {}
    )
    security: list[dict[str, list[str]]] = [{"cdsHooksJwt": []}] if auth_required else []
    order_sign = {
        "200": {
            "description": "CDS Hooks cards and CRD system actions",
            "content": {JSON: {"schema": _ref("CdsResponse")}},
        },
        **_post_errors(),
        "408": _outcome("The request body did not arrive within the time budget"),
        "412": _outcome("Prefetch data is missing and there is no fhirServer to read it from"),
        "422": _outcome("A request the service understands but does not support"),
        **unauthorized,
    }
    paths: dict[str, Any] = {
        "/cds-services": {
            "get": {
                "operationId": "discovery",
                "summary": "CDS Hooks discovery",
                "responses": {
                    "200": {
                        "description": "The services offered",
                        "content": {JSON: {"schema": _ref("Discovery")}},
                    },
                    **unauthorized,
                },
                "security": security,
            }
        },
        SERVICE_PATH: {
            "post": {
                "operationId": "orderSign",
                "summary": "order-sign: CP.MP.101 coverage information for DLI orders",
                "requestBody": _body("OrderSignRequest"),
                "responses": order_sign,
                "security": security,
            }
        },
        f"/cds-services/{DISPATCH_SERVICE_ID}": {
            "post": {
                "operationId": "orderDispatch",
                "summary": "order-dispatch: CP.MP.101 coverage information for dispatched DLI orders",
                "requestBody": _body("OrderDispatchRequest"),
                "responses": order_sign,
                "security": security,
            }
        },
        f"/cds-services/{SELECT_SERVICE_ID}": {
            "post": {
                "operationId": "orderSelect",
                "summary": "order-select: early CP.MP.101 guidance on a DLI order being selected",
                "requestBody": _body("OrderSelectRequest"),
                "responses": {k: v for k, v in order_sign.items() if k != "412"},
                "security": security,
            }
        },
        **{
            f"/cds-services/{service_id}/feedback": {
                "post": {
                    "operationId": "feedback" if service_id == SERVICE_ID else f"feedback-{hook}",
                    "summary": f"Feedback on {hook} cards (stored)",
                    "requestBody": _body("FeedbackRequest"),
                    "responses": {
                        "200": {"description": "Stored"},
                        **_post_errors(),
                        "408": _outcome("The request body did not arrive within the time budget"),
                        **unauthorized,
                    },
                    "security": security,
                }
            }
            for hook, service_id in SERVICES.items()
        },
        "/health": {
            "get": {
                "operationId": "health",
                "summary": "Liveness, and the audit rows this worker has not yet stored in the database",
                "responses": {
                    "200": {
                        "description": "status ok or degraded (database unreachable: rows go to the journal)",
                        "content": {JSON: {"schema": {"type": "object", "required": ["status", "audit"]}}},
                    }
                },
            }
        },
        "/fhir/Questionnaire/dli-cp-mp-101": {
            "get": {
                "operationId": "readQuestionnaire",
                "summary": "The DLI questionnaire documentation-needed answers point to",
                "responses": {
                    "200": {
                        "description": "Questionnaire",
                        "content": {FHIR_JSON: {"schema": _ref("Resource")}},
                    }
                },
            }
        },
        "/fhir/Questionnaire": {
            "get": {
                "operationId": "searchQuestionnaire",
                "summary": "Questionnaire search by canonical url",
                "parameters": [
                    {"name": "url", "in": "query", "required": False, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "searchset Bundle",
                        "content": {FHIR_JSON: {"schema": _ref("Resource")}},
                    }
                },
            }
        },
    }
    # The FHIR routes: SMART Backend Services access tokens (cds/smart/), 401/403 with an outcome.
    fhir_security: list[dict[str, list[str]]] = [{"smartBackendServices": []}] if auth_required else []
    fhir_unauthorized = (
        {
            "401": _outcome("No valid access token (WWW-Authenticate: Bearer)"),
            "403": _outcome("The access token lacks the operation's scope"),
        }
        if auth_required
        else {}
    )
    for path in ("/fhir/Questionnaire/dli-cp-mp-101", "/fhir/Questionnaire"):
        paths[path]["get"]["responses"].update(fhir_unauthorized)
        paths[path]["get"]["security"] = fhir_security
    paths.update(_pas_paths(fhir_security, fhir_unauthorized))
    paths.update(dtr_paths(fhir_security, fhir_unauthorized))
    paths.update(_smart_paths())
    components: dict[str, Any] = {"schemas": {**SCHEMAS, **PAS_SCHEMAS, **SMART_SCHEMAS}}
    if auth_required:
        components["securitySchemes"] = {
            "cdsHooksJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "smartBackendServices": {
                "type": "oauth2",
                "description": "SMART Backend Services: client_credentials with a private_key_jwt assertion",
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": "/fhir/auth/token",
                        "scopes": {scope: "SMART system scope" for scope in SUPPORTED_SCOPES},
                    }
                },
            },
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "dli-cds",
            "version": version,
            "description": "CDS Hooks 2.0 order-sign, order-dispatch and order-select services for CP.MP.101 (donor lymphocyte infusion) with Da Vinci CRD coverage information",
        },
        "paths": paths,
        "components": components,
    }


# ---------------------------------------------------------------------- PAS (cds/pas/)
PAS_SCHEMAS: dict[str, Any] = {
    "PasBundle": {
        "description": "A PAS request (or inquiry) Bundle, the Claim first; the operation's "
        "Parameters with the Bundle as parameter 'resource' is accepted too",
        "type": "object",
        "required": ["resourceType", "type", "identifier", "timestamp", "entry"],
        "properties": {
            "resourceType": {"const": "Bundle"},
            "type": {"const": "collection"},
            "identifier": {
                "type": "object",
                "required": ["value"],
                "properties": {"system": {"type": "string"}, "value": {"type": "string"}},
            },
            "timestamp": {"type": "string"},
            "entry": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["fullUrl", "resource"],
                    "properties": {
                        "fullUrl": {"type": "string", "minLength": 1},
                        "resource": _ref("Resource"),
                    },
                },
            },
        },
    },
    "PasResponseBundle": {
        "type": "object",
        "required": ["resourceType", "type", "timestamp", "entry"],
        "properties": {
            "resourceType": {"const": "Bundle"},
            "type": {"const": "collection"},
            "entry": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["fullUrl", "resource"],
                    "properties": {"fullUrl": {"type": "string"}, "resource": _ref("Resource")},
                },
            },
        },
    },
    "PasInquiryResult": {
        "type": "object",
        "required": ["resourceType"],
        "properties": {
            "resourceType": {"const": "Parameters"},
            "parameter": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "resource"],
                    "properties": {"name": {"const": "return"}, "resource": _ref("PasResponseBundle")},
                },
            },
        },
    },
}


def _pas_paths(security: list[dict[str, list[str]]], unauthorized: dict[str, Any]) -> dict[str, Any]:
    body = {
        "required": True,
        "content": {FHIR_JSON: {"schema": _ref("PasBundle")}, JSON: {"schema": _ref("PasBundle")}},
    }
    errors = {
        **_post_errors(),
        "408": _outcome("The request body did not arrive within the time budget"),
        "422": _outcome("A Bundle that breaks a PAS rule (the element is named), or no DLI item"),
        **unauthorized,
    }
    return {
        "/fhir/Claim/$submit": {
            "post": {
                "operationId": "pasSubmit",
                "summary": "Da Vinci PAS Claim/$submit: CP.MP.101 prior authorization of DLI",
                "requestBody": body,
                "responses": {
                    "200": {
                        "description": "PAS response Bundle, the ClaimResponse first",
                        "content": {FHIR_JSON: {"schema": _ref("PasResponseBundle")}},
                    },
                    "409": _outcome("The Claim identifier was already submitted with other content"),
                    **errors,
                },
                "security": security,
            }
        },
        "/fhir/Claim/$inquire": {
            "post": {
                "operationId": "pasInquire",
                "summary": "Da Vinci PAS Claim/$inquire: stored decisions, query by example",
                "requestBody": body,
                "responses": {
                    "200": {
                        "description": "Parameters with one inquiry response Bundle per match",
                        "content": {FHIR_JSON: {"schema": _ref("PasInquiryResult")}},
                    },
                    **errors,
                },
                "security": security,
            }
        },
    }


# ---------------------------------------------------------------------- SMART (cds/smart/)
SMART_SCHEMAS: dict[str, Any] = {
    "OAuthError": {
        "type": "object",
        "required": ["error", "error_description"],
        "properties": {
            "error": {
                "enum": [
                    "invalid_request",
                    "invalid_client",
                    "invalid_scope",
                    "unsupported_grant_type",
                    "server_error",
                ]
            },
            "error_description": {"type": "string"},
        },
    },
    "TokenResponse": {
        "type": "object",
        "required": ["access_token", "token_type", "expires_in", "scope"],
        "properties": {
            "access_token": {"type": "string"},
            "token_type": {"const": "bearer"},
            "expires_in": {"type": "integer"},
            "scope": {"type": "string"},
        },
    },
    "SmartConfiguration": {
        "type": "object",
        "required": ["token_endpoint", "grant_types_supported", "token_endpoint_auth_methods_supported"],
        "properties": {"token_endpoint": {"type": "string"}},
    },
}


def _smart_paths() -> dict[str, Any]:
    oauth_error = {"content": {JSON: {"schema": _ref("OAuthError")}}}
    return {
        "/fhir/.well-known/smart-configuration": {
            "get": {
                "operationId": "smartConfiguration",
                "summary": "SMART configuration: the token endpoint and what it accepts (always open)",
                "responses": {
                    "200": {
                        "description": "The SMART configuration",
                        "content": {JSON: {"schema": _ref("SmartConfiguration")}},
                    }
                },
            }
        },
        "/fhir/auth/token": {
            "post": {
                "operationId": "smartToken",
                "summary": "SMART Backend Services token endpoint (client_credentials, private_key_jwt)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["grant_type", "client_assertion_type", "client_assertion", "scope"],
                                "properties": {
                                    "grant_type": {"const": "client_credentials"},
                                    "client_assertion_type": {
                                        "const": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                                    },
                                    "client_assertion": {"type": "string"},
                                    "scope": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "An access token (5 minutes)",
                        "content": {JSON: {"schema": _ref("TokenResponse")}},
                    },
                    "400": {"description": "invalid_request, unsupported_grant_type, invalid_scope", **oauth_error},
                    "401": {"description": "invalid_client: the client assertion is refused", **oauth_error},
                },
            }
        },
    }
