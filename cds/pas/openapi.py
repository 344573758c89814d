"""The OpenAPI description of the PAS routes (merged into ``cds.openapi``'s document):
``Claim/$submit`` and ``Claim/$inquire`` and their Bundle schemas."""

from __future__ import annotations

from typing import Any

from cds.openapi_schemas import FHIR_JSON, JSON, _outcome, _post_errors, _ref

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


def pas_paths(security: list[dict[str, list[str]]], unauthorized: dict[str, Any]) -> dict[str, Any]:
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
