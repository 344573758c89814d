"""HTTP: the SMART Backend Services door — the SMART configuration document and the token
endpoint (client_credentials with a private_key_jwt assertion). The token call leaves an audit
row without its response (it holds the access token)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from cds.http import Http, _json, _no_store
from cds.smart.configuration import SMART_CONFIGURATION_PATH, TOKEN_PATH, smart_configuration
from cds.smart.token_endpoint import MAX_FORM_BYTES, OAuthError, TokenEndpoint, read_form

log = logging.getLogger("cds")


def register_smart_routes(app: FastAPI, http: Http, token_endpoint: TokenEndpoint | None) -> None:
    """``/fhir/.well-known/smart-configuration`` and the token endpoint on ``app``."""

    @app.get("/fhir" + SMART_CONFIGURATION_PATH)
    async def smart_configuration_document(request: Request) -> Response:
        return _json(smart_configuration(http.fhir_base(request), auth_required=http.auth_required))

    @app.post("/fhir" + TOKEN_PATH)
    async def token(request: Request) -> Response:
        started = time.perf_counter()
        # The response holds the access token: never stored in the audit row.
        audit: dict[str, Any] = {"endpoint": "smart-token", "service": "smart", "secret_response": True}

        async def run() -> Response:
            if token_endpoint is None:
                raise OAuthError(
                    "invalid_request", "authentication is off on this server: FHIR calls need no token"
                )
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
                raise OAuthError("invalid_request", f"the token request exceeds {MAX_FORM_BYTES} bytes")
            body = bytearray()
            try:
                async with asyncio.timeout(http.limits.time_budget_seconds):
                    async for chunk in request.stream():
                        body += chunk
                        if len(body) > MAX_FORM_BYTES:
                            raise OAuthError(
                                "invalid_request", f"the token request exceeds {MAX_FORM_BYTES} bytes"
                            )
            except TimeoutError:
                raise OAuthError("invalid_request", "the token request did not arrive in time") from None
            form = read_form(bytes(body), request.headers.get("content-type"))
            granted = await token_endpoint.exchange(
                form, http.fhir_base(request) + TOKEN_PATH, http.fhir_base(request), http.clock().timestamp()
            )
            audit["client_iss"] = granted.client_id
            return _no_store(_json(granted.body()))

        try:
            response = await run()
        except OAuthError as exc:
            log.info("token request refused: %s", exc.error)
            status = 401 if exc.error == "invalid_client" else 400
            response = _no_store(_json(exc.body(), status))
        except Exception:
            log.exception("internal error in the token endpoint")
            response = _no_store(
                _json({"error": "server_error", "error_description": "the token could not be issued"}, 500)
            )
        return await http.audit(audit, response, started)
