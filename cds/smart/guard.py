"""Scope checks per route: the resource server side of SMART Backend Services.

A route declares what it needs in one line, either as a FastAPI dependency::

    @app.post("/fhir/Questionnaire/$questionnaire-package",
              dependencies=[Depends(require_scopes("system/Questionnaire.rs"))])

or, for a plain route, ``app.add_route(path, protect(handler, ROUTE_SCOPES[path]), ...)``, or in a
handler ``principal = await authorize(request, QUESTIONNAIRE_PACKAGE)``. All read the
app's :class:`ResourceGuard` (``app.state.smart``). With authentication off they let every call
through (principal None). A missing, malformed, foreign or expired token is an
:class:`Unauthenticated`; a valid token without the scopes an :class:`InsufficientScope`; the
HTTP layer maps them to 401 and 403 with ``WWW-Authenticate``. The verified client is also left
in ``request.state.smart_client`` for the audit row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from cds.smart.access_token import InvalidAccessToken, Principal, TokenService
from cds.smart.scopes import ScopeRequirement

REALM = "dli-cds"


class Unauthenticated(Exception):
    """No acceptable access token (answer: 401)."""

    def __init__(self, reason: str, *, token_given: bool) -> None:
        super().__init__(reason)
        self.token_given = token_given

    @property
    def www_authenticate(self) -> str:
        if not self.token_given:  # RFC 6750 §3.1: no error code when no credentials were sent
            return f'Bearer realm="{REALM}"'
        return f'Bearer realm="{REALM}", error="invalid_token", error_description="the access token is not valid"'


class InsufficientScope(Exception):
    """A valid token without the scopes the route needs (answer: 403)."""

    def __init__(self, requirement: ScopeRequirement) -> None:
        super().__init__(f"this operation needs the scope(s) {requirement.text}")
        self.requirement = requirement

    @property
    def www_authenticate(self) -> str:
        return f'Bearer realm="{REALM}", error="insufficient_scope", scope="{self.requirement.text}"'


@dataclass
class ResourceGuard:
    tokens: TokenService | None  # None: authentication is off
    fhir_base: Callable[[Request], str]
    clock: Callable[[], dt.datetime]

    def check(self, request: Request, requirement: ScopeRequirement) -> Principal | None:
        if self.tokens is None:
            return None
        authorization = request.headers.get("authorization")
        try:
            principal = self.tokens.verify(authorization, self.fhir_base(request), self.clock().timestamp())
        except InvalidAccessToken as exc:
            raise Unauthenticated(str(exc), token_given=bool(authorization)) from None
        if not requirement.met_by(principal.scopes):
            raise InsufficientScope(requirement)
        request.state.smart_client = principal
        return principal


async def authorize(request: Request, requirement: ScopeRequirement) -> Principal | None:
    guard: ResourceGuard = request.app.state.smart
    return guard.check(request, requirement)


def protect(
    handler: Callable[[Request], Awaitable[Response]], requirement: ScopeRequirement
) -> Callable[[Request], Awaitable[Response]]:
    """``handler`` (a Starlette endpoint) behind the scope check."""

    async def protected(request: Request) -> Response:
        await authorize(request, requirement)
        return await handler(request)

    return protected


def require_scopes(*scopes: str) -> Callable[[Request], Awaitable[Principal | None]]:
    """A FastAPI dependency: the route needs ``scopes`` (e.g. ``"system/ValueSet.rs"``)."""
    requirement = ScopeRequirement.of(*scopes)

    async def dependency(request: Request) -> Principal | None:
        return await authorize(request, requirement)

    return dependency
