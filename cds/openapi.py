"""The OpenAPI 3.1 document of the HTTP surface (served at ``/openapi.json``).

Written out rather than inferred: the routes read raw bodies (size and depth limits come before
JSON parsing), so FastAPI cannot see their request models. The request schemas state what the
service accepts — the CDS Hooks 2.0 order-sign, order-select and order-dispatch requests and feedback, tolerant of unknown fields —
and every error response is an OperationOutcome. Optional members may be ``null`` (read as absent). schemathesis generates requests from it
(``tests/service/test_openapi_fuzz.py``).

This module assembles the document and describes the CDS Hooks routes; the schemas and shared
response pieces are in ``cds/openapi_schemas.py``, each FHIR door's paths beside the door
(``cds/dtr/openapi.py``, ``cds/pas/openapi.py``, ``cds/smart/openapi.py``).
"""

from __future__ import annotations

from typing import Any

from cds.discovery import DISPATCH_SERVICE_ID, SELECT_SERVICE_ID, SERVICE_ID, SERVICES
from cds.dtr.openapi import dtr_paths
from cds.openapi_schemas import FHIR_JSON, JSON, SCHEMAS, _body, _outcome, _post_errors, _ref
from cds.pas.openapi import PAS_SCHEMAS, pas_paths
from cds.smart.openapi import SMART_SCHEMAS, smart_paths
from cds.smart.scopes import SUPPORTED_SCOPES

SERVICE_PATH = f"/cds-services/{SERVICE_ID}"


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
    paths.update(pas_paths(fhir_security, fhir_unauthorized))
    paths.update(dtr_paths(fhir_security, fhir_unauthorized))
    paths.update(smart_paths())
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
