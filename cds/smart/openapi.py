"""The OpenAPI description of the SMART routes (merged into ``cds.openapi``'s document): the
SMART configuration and the token endpoint, and their schemas."""

from __future__ import annotations

from typing import Any

from cds.openapi_schemas import JSON, _ref

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


def smart_paths() -> dict[str, Any]:
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
