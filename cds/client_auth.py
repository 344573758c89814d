"""CDS Hooks client authentication: verifying the EHR's `Authorization: Bearer <JWT>`.

The only module that imports the JWT library. Checks, in the order of the CDS Hooks best
practices: the header's ``alg`` is in the configured asymmetric set (``none`` and every HMAC
algorithm are always refused); ``iss`` is a trusted issuer; the signing key is found by ``kid``
and ``alg`` in that issuer's JWKS (verification entries only: a ``kid`` listed twice, as a
signing and a verification entry, picks the latter) — fetched from the header's ``jku`` only when that URL is on the issuer's
allowlist, else from the issuer's configured JWKS (inline or URL) — cached, and fetched again
once when a ``kid`` is unknown (key rotation); the signature; ``aud`` is one of this endpoint's
URLs; ``exp``/``iat``/``nbf`` with a small leeway; ``tenant`` on the issuer's allowlist when one
is configured; ``jti`` not seen before within the token's lifetime. Unknown extra claims are
accepted (Epic sends ``sub`` and ``nbf``). Every failure is an :class:`AuthenticationError`
whose message is for the log only: the HTTP layer answers a bare 401.

No network I/O here: JWKS documents are fetched through an injected async ``fetch_json``.
Tokens are never logged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import jwt

log = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
)
DEFAULT_ALGORITHMS = frozenset({"ES384", "RS384"})
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")

FetchJson = Callable[[str], Awaitable[Any]]


class AuthenticationError(Exception):
    """The request's client JWT is missing or not acceptable (answer: bare 401)."""


class AuthConfigurationError(ValueError):
    """The trust configuration itself is invalid (refused at start-up)."""


@dataclass(frozen=True)
class TrustedIssuer:
    """One CDS client we trust, identified by its ``iss``."""

    iss: str
    jku_allowlist: tuple[str, ...] = ()
    jwks: Mapping[str, Any] | None = None
    jwks_url: str | None = None
    tenants: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuthPolicy:
    issuers: Mapping[str, TrustedIssuer]
    algorithms: frozenset[str] = DEFAULT_ALGORITHMS
    leeway_seconds: int = 60
    jwks_ttl_seconds: int = 3600
    refetch_interval_seconds: int = 30
    max_token_lifetime_seconds: int = 86400 + 300

    def __post_init__(self) -> None:
        bad = set(self.algorithms) - ASYMMETRIC_ALGORITHMS
        if bad:
            raise AuthConfigurationError(
                f"algorithms {sorted(bad)} are not allowed: only asymmetric algorithms "
                f"({', '.join(sorted(ASYMMETRIC_ALGORITHMS))})"
            )
        if not self.algorithms:
            raise AuthConfigurationError("at least one algorithm must be allowed")


@dataclass(frozen=True)
class VerifiedClient:
    iss: str
    jti: str
    tenant: str | None
    subject: str | None


class ReplayStore(Protocol):
    async def remember(self, key: str, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at``; False when it was already recorded."""


class MemoryReplayStore:
    """Replay store for a single process (tests, the embedded quick start)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    async def remember(self, key: str, expires_at: float) -> bool:
        now = time.time()
        if len(self._seen) > 10000:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
        if self._seen.get(key, 0.0) > now:
            return False
        self._seen[key] = expires_at
        return True


# Members that only a private key has: a JWKS entry carrying them is published for signing.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
KEY_TYPE_OF_ALGORITHM = {"ES": "EC", "RS": "RSA", "PS": "RSA"}


@dataclass(frozen=True)
class _Key:
    """One verification key of a JWKS, with what it may be picked by."""

    kid: str | None
    alg: str | None
    kty: str
    jwk: jwt.PyJWK


@dataclass
class _CachedKeys:
    keys: list[_Key]
    fetched_at: float


@dataclass
class JwksCache:
    """JWKS documents by source, with a TTL and one refetch when a ``kid`` is unknown."""

    fetch_json: FetchJson
    ttl_seconds: int = 3600
    refetch_interval_seconds: int = 30
    _entries: dict[str, _CachedKeys] = field(default_factory=dict)

    async def key(
        self, source: str, kid: str | None, inline: Mapping[str, Any] | None, alg: str = "ES384"
    ) -> jwt.PyJWK:
        now = time.monotonic()
        entry = self._entries.get(source)
        if entry is None or now - entry.fetched_at > self.ttl_seconds:
            entry = await self._load(source, inline)
        found = _pick(entry.keys, kid, alg)
        if found is None and inline is None and now - entry.fetched_at >= self.refetch_interval_seconds:
            entry = await self._load(source, inline)  # key rotation: refetch once
            found = _pick(entry.keys, kid, alg)
        if found is None:
            raise AuthenticationError(f"no key with kid {kid!r} in the JWKS of {source}")
        return found

    async def _load(self, source: str, inline: Mapping[str, Any] | None) -> _CachedKeys:
        if inline is not None:
            document: Any = inline
        else:
            try:
                document = await self.fetch_json(source)
            except Exception as exc:  # any transport or parse failure means: not trusted now
                reason = type(exc).__name__
                raise AuthenticationError(f"JWKS at {source} could not be fetched: {reason}") from exc
        entry = _CachedKeys(_parse_jwks(document, source), time.monotonic())
        self._entries[source] = entry
        return entry


def _parse_jwks(document: Any, source: str) -> list[_Key]:
    """The JWKS's verification keys. An entry whose ``key_ops`` lacks ``verify`` or whose ``use``
    is not ``sig`` is not one (a JWKS may list a ``kid`` twice: its signing entry, with the
    private key, and its verification entry); of any other entry only the public members are
    read. Symmetric keys are never trusted."""
    if isinstance(document, str | bytes):
        document = json.loads(document)
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise AuthenticationError(f"JWKS at {source} has no 'keys' array")
    keys: list[_Key] = []
    for raw in document["keys"]:
        if not isinstance(raw, Mapping) or raw.get("kty") in ("oct", None):
            continue
        ops = raw.get("key_ops")
        if isinstance(ops, list) and "verify" not in ops:
            continue
        if raw.get("use") not in (None, "sig"):
            continue
        public = {k: v for k, v in raw.items() if k not in PRIVATE_MEMBERS}
        try:
            key = jwt.PyJWK(public)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            log.warning("ignoring an unusable key in the JWKS of %s", source)
            continue
        kid, alg = raw.get("kid"), raw.get("alg")
        keys.append(
            _Key(
                kid=str(kid) if kid is not None else None,
                alg=alg if isinstance(alg, str) else None,
                kty=str(raw["kty"]),
                jwk=key,
            )
        )
    return keys


def _pick(keys: list[_Key], kid: str | None, alg: str) -> jwt.PyJWK | None:
    """The key for a token's ``kid`` and ``alg``: its key type must fit the algorithm, and a key
    naming this algorithm comes before one naming another or none (the ``alg`` of a JWK is the
    intended one, not a restriction: the CRD request generator signs RS256 with an RS384 key).
    Without a ``kid``, only a single fitting key."""
    kty = KEY_TYPE_OF_ALGORITHM.get(alg[:2])
    fitting = sorted((k for k in keys if k.kty == kty), key=lambda k: k.alg != alg)
    if kid is not None:
        return next((k.jwk for k in fitting if k.kid == kid), None)
    return fitting[0].jwk if len(fitting) == 1 else None


def _normalise_url(url: str) -> str:
    return url.rstrip("/")


class ClientAuthenticator:
    """Verifies client JWTs against an :class:`AuthPolicy`."""

    def __init__(self, policy: AuthPolicy, fetch_json: FetchJson, replay_store: ReplayStore) -> None:
        self._policy = policy
        self._replay = replay_store
        self._jwks = JwksCache(fetch_json, policy.jwks_ttl_seconds, policy.refetch_interval_seconds)

    async def verify(
        self, authorization: str | None, audiences: Iterable[str], now: float | None = None
    ) -> VerifiedClient:
        token = _bearer(authorization)
        now = time.time() if now is None else now
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"malformed JWT: {type(exc).__name__}") from exc
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._policy.algorithms:
            raise AuthenticationError(f"algorithm {alg!r} is not accepted")
        typ = header.get("typ")
        if typ is not None and str(typ).upper() != "JWT":
            raise AuthenticationError(f"typ {typ!r} is not JWT")
        iss = unverified.get("iss")
        issuer = self._policy.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise AuthenticationError(f"issuer {iss!r} is not trusted")
        key = await self._signing_key(issuer, header)
        wanted = sorted({_normalise_url(a) for a in audiences})
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=wanted + [a + "/" for a in wanted],
                issuer=issuer.iss,
                leeway=self._policy.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"JWT rejected: {type(exc).__name__}: {exc}") from exc
        return await self._check_claims(issuer, claims, now)

    async def _signing_key(self, issuer: TrustedIssuer, header: Mapping[str, Any]) -> Any:
        alg = str(header.get("alg"))
        kid = header.get("kid")
        kid = kid if isinstance(kid, str) else None
        jku = header.get("jku")
        if jku is not None:
            allowed = {_normalise_url(u) for u in issuer.jku_allowlist}
            if not isinstance(jku, str) or _normalise_url(jku) not in allowed:
                raise AuthenticationError("jku is not on the issuer's allowlist")
            pyjwk = await self._jwks.key(jku, kid, None, alg)
        elif issuer.jwks is not None:
            pyjwk = await self._jwks.key(f"configured:{issuer.iss}", kid, issuer.jwks, alg)
        elif issuer.jwks_url is not None:
            pyjwk = await self._jwks.key(issuer.jwks_url, kid, None, alg)
        else:
            raise AuthenticationError("no jku and no configured JWKS for this issuer")
        return pyjwk.key

    async def _check_claims(
        self, issuer: TrustedIssuer, claims: Mapping[str, Any], now: float
    ) -> VerifiedClient:
        leeway = self._policy.leeway_seconds
        iat = claims.get("iat")
        exp = claims.get("exp")
        if not isinstance(iat, int | float) or iat > now + leeway:
            raise AuthenticationError("iat is in the future")
        if not isinstance(exp, int | float) or exp - iat > self._policy.max_token_lifetime_seconds:
            raise AuthenticationError("token lifetime is too long")
        tenant = claims.get("tenant")
        if issuer.tenants and tenant not in issuer.tenants:
            raise AuthenticationError("tenant is not on the issuer's allowlist")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise AuthenticationError("jti is missing")
        if not await self._replay.remember(f"{issuer.iss}|{jti}", float(exp) + leeway):
            raise AuthenticationError("jti was seen before (replay)")
        sub = claims.get("sub")
        return VerifiedClient(
            iss=issuer.iss,
            jti=jti,
            tenant=tenant if isinstance(tenant, str) else None,
            subject=sub if isinstance(sub, str) else None,
        )


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationError("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Authorization is not a Bearer token")
    return token.strip()
