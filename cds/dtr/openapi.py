"""The OpenAPI description of the DTR routes (merged into ``cds.openapi``'s document): the
request schemas state what the routes accept, every error is an OperationOutcome."""

from __future__ import annotations

from typing import Any

FHIR_JSON = "application/fhir+json"
JSON = "application/json"
_RESOURCE = {"$ref": "#/components/schemas/Resource"}
_OUTCOME = {"$ref": "#/components/schemas/OperationOutcome"}

PARAMETERS_SCHEMA: dict[str, Any] = {
    "description": "A FHIR Parameters resource",
    "type": "object",
    "required": ["resourceType", "parameter"],
    "properties": {
        "resourceType": {"const": "Parameters"},
        "parameter": {
            "type": "array",
            "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        },
    },
}


def _fhir(description: str, schema: dict[str, Any] = _RESOURCE) -> dict[str, Any]:
    return {"description": description, "content": {FHIR_JSON: {"schema": schema}}}


def _errors(*statuses: str) -> dict[str, Any]:
    text = {
        "400": "Malformed JSON or input that breaks the operation's rules (the element is named)",
        "404": "No such resource",
        "408": "The request body did not arrive within the time budget",
        "413": "The request body exceeds the configured size limit",
        "500": "Internal error (never a traceback)",
    }
    return {s: _fhir(text[s], _OUTCOME) for s in statuses}


def _read(operation_id: str, summary: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _fhir("The resource"), **_errors("404")},
        }
    }


def _search(operation_id: str, summary: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [{"name": "url", "in": "query", "required": False, "schema": {"type": "string"}}],
            "responses": {"200": _fhir("searchset Bundle")},
        }
    }


def dtr_paths(security: list[dict[str, list[str]]], unauthorized: dict[str, Any]) -> dict[str, Any]:
    body = {
        "required": True,
        "content": {FHIR_JSON: {"schema": PARAMETERS_SCHEMA}, JSON: {"schema": PARAMETERS_SCHEMA}},
    }
    post_errors = _errors("400", "408", "413", "500")
    return {
        "/fhir/metadata": {
            "get": {
                "operationId": "capabilities",
                "summary": "CapabilityStatement: DTR payer service and PAS operations",
                "responses": {"200": _fhir("CapabilityStatement")},
            }
        },
        "/fhir/Questionnaire/$questionnaire-package": {
            "post": {
                "operationId": "questionnairePackage",
                "summary": "Da Vinci DTR $questionnaire-package: the DLI questionnaire with its libraries and value sets",
                "requestBody": body,
                "responses": {
                    "200": _fhir("Parameters: PackageBundle per questionnaire, operationOutcome warnings"),
                    **post_errors,
                    **unauthorized,
                },
                "security": security,
            }
        },
        "/fhir/Library": _search("searchLibrary", "Library search by canonical url (url or url|version)"),
        "/fhir/Library/{id}": _read("readLibrary", "A CQL Library (text/cql and application/elm+json)"),
        "/fhir/ValueSet": _search("searchValueSet", "ValueSet search by canonical url"),
        "/fhir/ValueSet/{id}": _read("readValueSet", "A value set the libraries use"),
        "/fhir/ValueSet/$expand": {
            "get": {
                "operationId": "expandValueSetGet",
                "summary": "ValueSet $expand by canonical url",
                "parameters": [
                    {"name": "url", "in": "query", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": _fhir("The expanded ValueSet"), **_errors("400", "404", "500")},
            },
            "post": {
                "operationId": "expandValueSet",
                "summary": "ValueSet $expand (Parameters with url)",
                "requestBody": body,
                "responses": {"200": _fhir("The expanded ValueSet"), **_errors("404"), **post_errors},
            },
        },
    }
