"""What the FHIR base publishes about its authorization: ``.well-known/smart-configuration``
(SMART App Launch 2.x, "Conformance") and the CapabilityStatement's ``rest.security``.

Paths are relative to the FHIR base (``<base>/fhir``): the token endpoint is
``<fhir base>/auth/token``.
"""

from __future__ import annotations

from typing import Any

from cds.smart.scopes import SUPPORTED_SCOPES
from cds.smart.token_endpoint import ASSERTION_ALGORITHMS

TOKEN_PATH = "/auth/token"
SMART_CONFIGURATION_PATH = "/.well-known/smart-configuration"
RESTFUL_SECURITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/restful-security-service"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def token_url(fhir_base: str) -> str:
    return fhir_base.rstrip("/") + TOKEN_PATH


def smart_configuration(fhir_base: str, *, auth_required: bool) -> dict[str, Any]:
    """The discovery document. With authentication off it still names the endpoint (a client
    may fetch tokens; they are not needed) and says so in ``dli_cds_authentication``."""
    return {
        "issuer": fhir_base.rstrip("/"),
        "token_endpoint": token_url(fhir_base),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": SUPPORTED_SCOPES,
        "capabilities": ["client-confidential-asymmetric", "permission-v2", "permission-v1"],
        "code_challenge_methods_supported": [],
        "dli_cds_authentication": "required" if auth_required else "off",
    }


def capability_security(fhir_base: str) -> dict[str, Any]:
    """``CapabilityStatement.rest.security``: SMART-on-FHIR with the token URL."""
    return {
        "service": [
            {
                "coding": [{"system": RESTFUL_SECURITY_SYSTEM, "code": "SMART-on-FHIR"}],
                "text": "SMART Backend Services (client_credentials, private_key_jwt)",
            }
        ],
        "extension": [{"url": OAUTH_URIS, "extension": [{"url": "token", "valueUri": token_url(fhir_base)}]}],
        "description": "Bearer tokens from the token endpoint (SMART Backend Services); "
        "see .well-known/smart-configuration.",
    }
