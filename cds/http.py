"""The shared HTTP pieces every door's routes use (``cds/app.py`` builds them once).

``Http`` holds what a route needs from the service (the database for the audit row, the request
limits, the clock, the client authenticator) and the helpers built on it: ``base_url``,
``authenticate``, ``body_of``, ``guarded`` (every error answer is an OperationOutcome; no
traceback ever leaves the process) and ``audit`` (no answer without its durable audit row).
With the door modules (``cds/hook_routes.py``, ``cds/dtr/routes.py``, ``cds/pas/routes.py``,
``cds/smart/routes.py``) and ``cds/app.py`` this is the HTTP layer: the only code that knows
status codes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import URL

from cds.client_auth import AuthenticationError, ClientAuthenticator
from cds.db import Database
from cds.discovery import SERVICE_ID
from cds.errors import (
    DataUnavailable,
    InvalidRequest,
    RequestTooLarge,
    ServiceError,
    StorageUnavailable,
    UnsupportedRequest,
)
from cds.limits import Deadline, LimitExceeded, MalformedJson, RequestLimits, parse_json_body
from cds.pas.service import ClaimConflict
from cds.settings import Settings
from cds.smart.guard import InsufficientScope, Unauthenticated

log = logging.getLogger("cds")
Clock = Callable[[], dt.datetime]
Handler = Callable[[Request], Awaitable[Response]]
STATUS = {
    InvalidRequest: 400,
    UnsupportedRequest: 422,
    DataUnavailable: 412,
    RequestTooLarge: 413,
    ClaimConflict: 409,
    StorageUnavailable: 503,
}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FHIR_JSON = "application/fhir+json"


def _json(body: Any, status: int = 200, media_type: str = "application/json") -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media_type)


def outcome(status: int, code: str, message: str, where: str | None = None) -> Response:
    issue: dict[str, Any] = {
        "severity": "error" if status < 500 else "fatal",
        "code": code,
        "diagnostics": message,
    }
    if where:
        issue["expression"] = [where]
    return _json({"resourceType": "OperationOutcome", "issue": [issue]}, status, "application/fhir+json")


@dataclass(frozen=True)
class Http:
    """The shared HTTP helpers, given to each door's route registration."""

    settings: Settings
    database: Database
    limits: RequestLimits
    clock: Clock
    authenticator: ClientAuthenticator | None

    @property
    def auth_required(self) -> bool:
        return self.settings.auth_mode == "required"

    def base_url(self, request: Request) -> str:
        return self.settings.public_base_url.rstrip("/") or served_base_url(request)

    def fhir_base(self, request: Request) -> str:
        return self.base_url(request) + "/fhir"

    async def authenticate(self, request: Request, paths: list[str]) -> str | None:
        """The verified issuer, the token's audience being one of ``paths`` under the base URL."""
        if self.authenticator is None:
            return None
        base = self.base_url(request)
        verified = await self.authenticator.verify(request.headers.get("authorization"), [base + p for p in paths])
        return verified.iss

    async def body_of(self, request: Request, deadline: Deadline) -> dict[str, Any]:
        limits = self.limits
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limits.max_body_bytes:
            raise LimitExceeded("body-size", f"request body of {declared} bytes exceeds the limit")
        chunks: list[bytes] = []
        size = 0

        async def read() -> None:
            nonlocal size
            async for chunk in request.stream():
                chunks.append(chunk)
                size += len(chunk)
                if size > limits.max_body_bytes:
                    raise LimitExceeded(
                        "body-size", f"request body exceeds the limit of {limits.max_body_bytes} bytes"
                    )

        try:
            async with asyncio.timeout(deadline.remaining()):
                await read()
        except TimeoutError:
            raise LimitExceeded(
                "time-budget",
                f"the request body did not arrive within the time budget of {limits.time_budget_seconds} s",
            ) from None
        return parse_json_body(b"".join(chunks), limits)

    async def guarded(self, handler: Callable[[], Awaitable[Response]]) -> Response:
        try:
            return await handler()
        except AuthenticationError as exc:
            log.info("unauthenticated call refused: %s", exc)
            return Response(status_code=401)
        except Unauthenticated as exc:
            log.info("FHIR call without an acceptable access token: %s", exc)
            return _unauthenticated(exc)
        except InsufficientScope as exc:
            return _forbidden(exc)
        except LimitExceeded as exc:
            status = {"body-size": 413, "time-budget": 408}.get(exc.limit, 400)
            return outcome(status, "timeout" if status == 408 else "too-costly", str(exc))
        except MalformedJson as exc:
            return outcome(400, "structure", str(exc))
        except ServiceError as exc:
            return outcome(STATUS.get(type(exc), 500), exc.code, exc.message, exc.where)
        except Exception:
            log.exception("internal error")
            return outcome(500, "exception", "internal error: the service could not answer this request")

    async def audit(self, audit: dict[str, Any], response: Response, started: float) -> Response:
        """``_audit`` on this service's database."""
        return await _audit(self.database, audit, response, started)


def served_base_url(request: Request) -> str:
    """``str(request.base_url)`` without its trailing slash: the address the client called.
    Starlette builds it anew for every request (a URL parse, ~20 µs); it depends only on the
    scheme, the Host header, the server address and the root path, so it is built once per
    combination of those (a bounded cache: a client inventing Host headers only churns it)."""
    scope = request.scope
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    server = scope.get("server")
    return _base_url(
        scope.get("scheme", "http"),
        host,
        tuple(server) if server is not None else None,
        scope.get("app_root_path", scope.get("root_path", "")),
    )


@lru_cache(maxsize=256)
def _base_url(scheme: str, host: bytes | None, server: tuple[Any, ...] | None, root_path: str) -> str:
    scope = {
        "type": "http",
        "scheme": scheme,
        "server": server,
        "path": root_path if root_path.endswith("/") else root_path + "/",
        "query_string": b"",
        "root_path": root_path,
        "headers": [] if host is None else [(b"host", host)],
    }
    return str(URL(scope=scope)).rstrip("/")


def _no_store(response: Response) -> Response:
    response.headers.update(NO_STORE)
    return response


def _unauthenticated(exc: Unauthenticated) -> Response:
    response = outcome(401, "login", "this FHIR operation needs a valid SMART Backend Services access token")
    response.headers["WWW-Authenticate"] = exc.www_authenticate
    return response


def _forbidden(exc: InsufficientScope) -> Response:
    response = outcome(403, "forbidden", str(exc))
    response.headers["WWW-Authenticate"] = exc.www_authenticate
    return response


async def _audit(database: Database, audit: dict[str, Any], response: Response, started: float) -> Response:
    """Store the call's audit row durably, then give back the response to send: ``response``,
    or a 503 OperationOutcome when the row could not be stored (no answer without its record).
    Every route ends with ``return await http.audit(audit, response, started)``."""
    body = bytes(response.body) if getattr(response, "body", None) else b""
    if audit.get("secret_response"):
        body = b""
    orders = audit.get("orders")
    criteria = audit.get("criteria")  # None: the route decided nothing (or failed before it)
    try:
        await database.audit_log.record(
            {
                "at": dt.datetime.now(dt.UTC),
                "service": audit.get("service", SERVICE_ID),
                "endpoint": audit["endpoint"],
                "hook_instance": audit.get("hook_instance"),
                "client_iss": audit.get("client_iss"),
                "patient_id": audit.get("patient_id"),
                "orders": orjson.dumps(orders).decode() if orders else None,
                "criteria": orjson.dumps(criteria).decode() if criteria is not None else None,
                "status": response.status_code,
                "latency_ms": (time.perf_counter() - started) * 1000,
                "response": body.decode("utf-8", "replace") if body else None,
            }
        )
    except StorageUnavailable as exc:
        unavailable = outcome(503, exc.code, exc.message, exc.where)
        unavailable.headers["Retry-After"] = "5"
        return unavailable
    except Exception:  # a route's entry the table refuses (a bug): never the answer without it
        log.exception("the audit row could not be handed over")
        return outcome(500, "exception", "internal error: the call's audit record could not be stored")
    return response
