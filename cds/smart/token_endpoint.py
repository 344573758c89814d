"""The token endpoint of SMART Backend Services: ``client_credentials`` with a
``private_key_jwt`` client assertion (RFC 7523, SMART App Launch 2.x "Backend Services").

The form (``application/x-www-form-urlencoded``) must carry ``grant_type=client_credentials``,
``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer``, the
``client_assertion`` and ``scope``. The assertion is refused (``invalid_client``) unless: its
``alg`` is RS384 or ES384 (``none`` and every HMAC algorithm never); its header names a ``kid``
found in the client's registered JWKS (inline, or its URL fetched through the injected
``fetch_json`` and cached); the signature verifies; ``iss`` = ``sub`` = a registered client_id;
``aud`` is the token URL; ``exp`` is in the future and at most 5 minutes away; ``jti`` was not
seen before (the service's replay store, until ``exp``). The granted scopes are the requested
ones the client's registration covers; none → ``invalid_scope``. Every failure is an
:class:`OAuthError` (RFC 6749 §5.2 ``error``); the HTTP layer picks its status. The assertion is
never logged: messages name the rule, not the token.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jwt

from cds.client_auth import AuthenticationError, FetchJson, JwksCache, ReplayStore
from cds.smart.access_token import TokenService
from cds.smart.clients import ClientRegistry, RegisteredClient
from cds.smart.scopes import grant

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ("RS384", "ES384")
MAX_ASSERTION_LIFETIME_SECONDS = 300
CLOCK_SKEW_SECONDS = 30
MAX_FORM_BYTES = 64 * 1024


class OAuthError(Exception):
    """An RFC 6749 error: ``error`` is the code, ``description`` says why (no secrets)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    expires_in: int
    scope: str
    client_id: str

    def body(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }


def read_form(body: bytes, content_type: str | None) -> dict[str, str]:
    """The token request's form fields; each at most once."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "the token request must be application/x-www-form-urlencoded")
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", f"the token request exceeds {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "the token request is not a well-formed form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", f"parameter {name!r} is given more than once")
        form[name] = value
    return form


class TokenEndpoint:
    def __init__(
        self,
        registry: ClientRegistry,
        tokens: TokenService,
        fetch_json: FetchJson,
        replay: ReplayStore,
    ) -> None:
        self._registry = registry
        self._tokens = tokens
        self._replay = replay
        self._jwks = JwksCache(fetch_json, ttl_seconds=3600, refetch_interval_seconds=30)

    def client(self, client_id: str) -> RegisteredClient | None:
        return self._registry.get(client_id)

    async def exchange(
        self, form: Mapping[str, str], token_url: str, issuer: str, now: float
    ) -> TokenResponse:
        if form.get("grant_type") != "client_credentials":
            if "grant_type" not in form:
                raise OAuthError("invalid_request", "grant_type is missing")
            raise OAuthError("unsupported_grant_type", "only client_credentials is supported")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise OAuthError("invalid_client", f"client_assertion_type must be {ASSERTION_TYPE}")
        assertion = form.get("client_assertion")
        if not assertion:
            raise OAuthError("invalid_client", "client_assertion is missing")
        requested = form.get("scope", "")
        if not requested.strip():
            raise OAuthError("invalid_scope", "scope is missing")
        client_id = await self._authenticate(assertion, token_url, now)
        client = self._registry.get(client_id)
        if client is None:  # _authenticate found it: cannot happen
            raise OAuthError("invalid_client", "the client is not registered")
        granted = grant(requested, client.scopes)
        if not granted:
            raise OAuthError("invalid_scope", "none of the requested scopes is allowed for this client")
        token, lifetime = self._tokens.issue(issuer, client_id, granted, now)
        log.info("access token issued to client %s for %s", client_id, " ".join(granted))
        return TokenResponse(token, lifetime, " ".join(granted), client_id)

    async def _authenticate(self, assertion: str, token_url: str, now: float) -> str:
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise OAuthError("invalid_client", "the client assertion is not a well-formed JWT") from None
        alg = header.get("alg")
        if alg not in ASSERTION_ALGORITHMS:
            raise OAuthError(
                "invalid_client", f"the assertion's alg must be one of {', '.join(ASSERTION_ALGORITHMS)}"
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise OAuthError("invalid_client", "the assertion's header has no kid")
        iss, sub = unverified.get("iss"), unverified.get("sub")
        client = self._registry.get(iss) if isinstance(iss, str) else None
        if client is None:
            raise OAuthError("invalid_client", "the assertion's iss is not a registered client")
        if sub != iss:
            raise OAuthError("invalid_client", "the assertion's sub must equal its iss (the client_id)")
        jku = header.get("jku")
        if jku is not None and jku != client.jwks_url:
            raise OAuthError("invalid_client", "the assertion's jku is not the client's registered JWKS URL")
        try:
            key = await self._jwks.key(client.jwks_source, kid, client.jwks, str(alg))
        except AuthenticationError as exc:
            raise OAuthError("invalid_client", str(exc)) from None
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                key.key,
                algorithms=[str(alg)],
                audience=token_url,
                issuer=client.client_id,
                options={
                    "require": ["iss", "sub", "aud", "exp", "jti"],
                    "verify_exp": False,  # checked below against the passed-in clock
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidAudienceError:
            raise OAuthError("invalid_client", "the assertion's aud is not this token URL") from None
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_client", f"the assertion was rejected ({type(exc).__name__})") from None
        exp = claims["exp"]
        if not isinstance(exp, int | float) or exp + CLOCK_SKEW_SECONDS <= now:
            raise OAuthError("invalid_client", "the assertion has expired")
        if exp > now + MAX_ASSERTION_LIFETIME_SECONDS:
            raise OAuthError("invalid_client", "the assertion's exp is more than 5 minutes away")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and nbf > now + CLOCK_SKEW_SECONDS:
            raise OAuthError("invalid_client", "the assertion is not valid yet (nbf)")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise OAuthError("invalid_client", "the assertion's jti is missing")
        if not await self._replay.remember(
            f"smart|{client.client_id}|{jti}", float(exp) + CLOCK_SKEW_SECONDS
        ):
            raise OAuthError("invalid_client", "the assertion's jti was used before (replay)")
        return client.client_id
