"""The server's CapabilityStatement (``GET /fhir/metadata``): the DTR payer service
(``$questionnaire-package``, Questionnaire / Library / ValueSet reads and ``$expand``) and the PAS
operations on Claim. With SMART Backend Services on, ``rest.security`` names SMART-on-FHIR and
the token URL (``cds.smart.configuration.capability_security``); with authentication off there is
no security to declare."""

from __future__ import annotations

import datetime as dt
from typing import Any

DTR_OPERATION = "http://hl7.org/fhir/us/davinci-dtr/OperationDefinition/questionnaire-package"
PAS_SUBMIT = "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-submit"
PAS_INQUIRE = "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-inquiry"
EXPAND = "http://hl7.org/fhir/OperationDefinition/ValueSet-expand"


def _resource(kind: str, search: list[dict[str, str]], operations: list[dict[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, "interaction": [{"code": "read"}]}
    if search:
        out["interaction"].append({"code": "search-type"})
        out["searchParam"] = search
    if operations:
        out["operation"] = operations
    return out


def capability_statement(
    base_url: str, published: dt.datetime, security: dict[str, Any] | None = None
) -> dict[str, Any]:
    url_param = [{"name": "url", "type": "uri"}]
    statement: dict[str, Any] = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": published.date().isoformat(),
        "kind": "instance",
        "instantiates": [
            "http://hl7.org/fhir/us/davinci-dtr/CapabilityStatement/dtr-payer-service|2.1.0",
        ],
        "software": {"name": "dli-cds"},
        "implementation": {
            "description": "dli-cds: CRD, DTR and PAS for CP.MP.101",
            "url": f"{base_url.rstrip('/')}/fhir",
        },
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "resource": [
                    _resource(
                        "Questionnaire",
                        url_param,
                        [{"name": "questionnaire-package", "definition": DTR_OPERATION}],
                    ),
                    _resource("Library", url_param, []),
                    _resource("ValueSet", url_param, [{"name": "expand", "definition": EXPAND}]),
                    {
                        "type": "Claim",
                        "operation": [
                            {"name": "submit", "definition": PAS_SUBMIT},
                            {"name": "inquire", "definition": PAS_INQUIRE},
                        ],
                    },
                ],
            }
        ],
    }
    if security is not None:
        statement["rest"][0]["security"] = security
    return statement
