"""Access tokens: short-lived, self-contained JWTs signed with the server's key.

Any worker or host holding the same public key verifies a token without shared session state:
the key is the setting ``smart_signing_key`` (a PEM, for several hosts: the same secret on each),
else the PEM file ``smart_signing_key_file``, generated (EC P-384, mode 0600) by the first
process that starts without one; the other workers of that host read the same file. Tokens are
ES384, carry ``iss`` and ``aud`` (the FHIR base), ``sub`` and ``client_id`` (the client),
``scope`` (the granted scopes), ``iat``, ``exp`` (5 minutes) and ``jti``. Never logged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

TOKEN_LIFETIME_SECONDS = 300
ALGORITHM = "ES384"
LEEWAY_SECONDS = 5


class InvalidAccessToken(Exception):
    """A bearer token that is missing, malformed, not ours, or expired (message for the log)."""


class SigningKeyError(ValueError):
    """The server's signing key cannot be read or made (refused at start-up)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a registered client and what it was granted."""

    client_id: str
    scopes: tuple[str, ...]


def load_signing_key(pem: str, key_file: Path) -> ec.EllipticCurvePrivateKey:
    """The configured key, else the key file's, else a new key written to the file."""
    if pem:
        return _read_pem(pem.encode(), "setting smart_signing_key")
    try:
        return _read_pem(key_file.read_bytes(), str(key_file))
    except FileNotFoundError:
        pass
    key = ec.generate_private_key(ec.SECP384R1())
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: of workers starting together, one writes, the others read its key
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_pem(key_file.read_bytes(), str(key_file))
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return key


def _read_pem(data: bytes, where: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{where}: not an unencrypted PEM private key ({type(exc).__name__})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp384r1":
        raise SigningKeyError(f"{where}: the signing key must be an EC P-384 key (ES384)")
    return key


class TokenService:
    """Issues and verifies this server's access tokens."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self._public = key.public_key()
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(self._public, as_dict=True)
        self.kid = _thumbprint(jwk)  # RFC 7638

    def issue(self, issuer: str, client_id: str, scopes: list[str], now: float) -> tuple[str, int]:
        """The token and its lifetime in seconds."""
        issued = int(now)
        claims = {
            "iss": issuer,
            "aud": issuer,
            "sub": client_id,
            "client_id": client_id,
            "scope": " ".join(scopes),
            "iat": issued,
            "exp": issued + TOKEN_LIFETIME_SECONDS,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid, "typ": "at+jwt"})
        return token, TOKEN_LIFETIME_SECONDS

    def verify(self, authorization: str | None, issuer: str, now: float) -> Principal:
        if not authorization:
            raise InvalidAccessToken("no Authorization header")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidAccessToken("the Authorization header is not a Bearer token")
        try:
            claims: dict[str, Any] = jwt.decode(
                token.strip(),
                self._public,
                algorithms=[ALGORITHM],
                audience=issuer,
                issuer=issuer,
                options={"require": ["exp", "iat", "sub", "scope"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidAccessToken(f"access token rejected: {type(exc).__name__}") from None
        exp, iat = claims["exp"], claims["iat"]
        if not isinstance(exp, int | float) or exp + LEEWAY_SECONDS <= now:
            raise InvalidAccessToken("access token expired")
        if not isinstance(iat, int | float) or iat > now + LEEWAY_SECONDS:
            raise InvalidAccessToken("access token issued in the future")
        scope, sub = claims["scope"], claims["sub"]
        if not isinstance(scope, str) or not isinstance(sub, str):
            raise InvalidAccessToken("access token claims have the wrong types")
        return Principal(client_id=sub, scopes=tuple(scope.split()))


def _thumbprint(jwk: dict[str, Any]) -> str:
    members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
