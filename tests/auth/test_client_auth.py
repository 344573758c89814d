"""The forged-token suite: every forgery refused, every valid client accepted."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cds.client_auth import (
    AuthConfigurationError,
    AuthenticationError,
    AuthPolicy,
    ClientAuthenticator,
    MemoryReplayStore,
    TrustedIssuer,
)

ISS = "https://ehr.example.org"
JKU = "https://ehr.example.org/.well-known/jwks.json"
EVIL_JKU = "https://evil.example.net/jwks.json"
AUD = "https://cds.example.org/cds-services/dli-order-sign"


def _jwk(private_key: Any, kid: str, alg: str) -> dict[str, Any]:
    public = private_key.public_key()
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        raw = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public))
    else:
        raw = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
    raw.update({"kid": kid, "alg": alg, "use": "sig"})
    return dict(raw)


EC_KEY = ec.generate_private_key(ec.SECP384R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_EC_KEY = ec.generate_private_key(ec.SECP384R1())
JWKS = {"keys": [_jwk(EC_KEY, "ec-1", "ES384"), _jwk(RSA_KEY, "rsa-1", "RS384")]}
EVIL_JWKS = {"keys": [_jwk(OTHER_EC_KEY, "ec-1", "ES384")]}


class Fetcher:
    def __init__(self) -> None:
        self.documents: dict[str, Any] = {JKU: JWKS, EVIL_JKU: EVIL_JWKS}
        self.calls: list[str] = []

    async def __call__(self, url: str) -> Any:
        self.calls.append(url)
        return self.documents[url]


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ISS, "aud": AUD, "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _token(claims: dict[str, Any], key: Any = EC_KEY, alg: str = "ES384", **header: Any) -> str:
    headers = {"kid": "ec-1" if alg.startswith("ES") else "rsa-1", "jku": JKU, "typ": "JWT"}
    headers.update(header)
    headers = {k: v for k, v in headers.items() if v is not None}
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _auth(
    algorithms: frozenset[str] = frozenset({"ES384", "RS384"}), **issuer: Any
) -> tuple[ClientAuthenticator, Fetcher]:
    fetcher = Fetcher()
    trusted = TrustedIssuer(iss=ISS, jku_allowlist=(JKU,), **issuer)
    policy = AuthPolicy(issuers={ISS: trusted}, algorithms=algorithms)
    return ClientAuthenticator(policy, fetcher, MemoryReplayStore()), fetcher


def _verify(auth: ClientAuthenticator, token: str, audiences: tuple[str, ...] = (AUD,)) -> Any:
    return asyncio.run(auth.verify(f"Bearer {token}", audiences))


def test_valid_es384_accepted() -> None:
    auth, fetcher = _auth()
    client = _verify(auth, _token(_claims(sub="epic-client", nbf=int(time.time()) - 300)))
    assert client.iss == ISS and client.subject == "epic-client"
    assert fetcher.calls == [JKU]


def test_valid_rs384_accepted() -> None:
    auth, _ = _auth()
    assert _verify(auth, _token(_claims(), key=RSA_KEY, alg="RS384")).iss == ISS


def test_rs256_only_when_configured() -> None:
    auth, _ = _auth()
    token = _token(_claims(), key=RSA_KEY, alg="RS256")
    with pytest.raises(AuthenticationError, match="algorithm 'RS256'"):
        _verify(auth, token)
    auth, _ = _auth(algorithms=frozenset({"ES384", "RS384", "RS256"}))
    assert _verify(auth, _token(_claims(), key=RSA_KEY, alg="RS256")).iss == ISS


def test_configured_inline_jwks_without_jku() -> None:
    auth, fetcher = _auth(jwks=JWKS)
    assert _verify(auth, _token(_claims(), jku=None)).iss == ISS
    assert fetcher.calls == []


def _forgeries() -> list[tuple[str, str, str]]:
    now = int(time.time())
    header_none = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "ec-1", "jku": JKU}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    public_pem = EC_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    import hashlib
    import hmac

    hs_header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "ec-1", "jku": JKU}).encode())
    signing_input = f"{hs_header}.{payload}".encode()
    hs_sig = _b64(hmac.new(public_pem, signing_input, hashlib.sha256).digest())
    good = _token(_claims())
    head, body, sig = good.split(".")
    tampered_body = _b64(json.dumps({**_claims(), "iss": ISS, "tenant": "other"}).encode())
    return [
        ("alg none", f"{header_none}.{payload}.", "algorithm 'none'"),
        ("HS256 with the public key", f"{hs_header}.{payload}.{hs_sig}", "algorithm 'HS256'"),
        ("wrong kid", _token(_claims(), kid="unknown-kid"), "no key with kid"),
        ("jku not on the allowlist", _token(_claims(), key=OTHER_EC_KEY, jku=EVIL_JKU), "allowlist"),
        ("expired", _token(_claims(exp=now - 3600, iat=now - 4000)), "ExpiredSignature"),
        ("not yet valid", _token(_claims(nbf=now + 3600)), "ImmatureSignature"),
        ("iat in the future", _token(_claims(iat=now + 3600, exp=now + 4000)), "ImmatureSignature|iat"),
        ("wrong aud", _token(_claims(aud="https://other.example.org/cds-services/x")), "InvalidAudience"),
        ("wrong iss", _token(_claims(iss="https://untrusted.example.org")), "not trusted"),
        ("tampered payload", f"{head}.{tampered_body}.{sig}", "InvalidSignature"),
        ("signed by another key", _token(_claims(), key=OTHER_EC_KEY), "InvalidSignature"),
        ("missing jti", _token(_claims(jti=None)), "MissingRequiredClaim"),
        ("garbage", "not-a-jwt", "malformed"),
    ]


@pytest.mark.parametrize("name", [f[0] for f in _forgeries()])
def test_forgeries_refused(name: str) -> None:
    # Built when the test runs, not when it is collected: a token made minutes earlier in a long
    # run would have expired and be refused for the wrong reason.
    token, match = {n: (t, m) for n, t, m in _forgeries()}[name]
    auth, _ = _auth()
    with pytest.raises(AuthenticationError, match=match):
        _verify(auth, token)


def test_replayed_jti_refused() -> None:
    auth, _ = _auth()
    token = _token(_claims())
    _verify(auth, token)
    with pytest.raises(AuthenticationError, match="replay"):
        _verify(auth, token)


def test_unknown_kid_refetches_once_for_rotation() -> None:
    auth, fetcher = _auth()
    _verify(auth, _token(_claims()))
    rotated = ec.generate_private_key(ec.SECP384R1())
    fetcher.documents[JKU] = {"keys": [*JWKS["keys"], _jwk(rotated, "ec-2", "ES384")]}
    auth._jwks._entries[JKU].fetched_at -= 60  # past the refetch interval
    assert _verify(auth, _token(_claims(), key=rotated, kid="ec-2")).iss == ISS
    assert fetcher.calls == [JKU, JKU]


def test_tenant_allowlist() -> None:
    auth, _ = _auth(tenants=("tenant-a",))
    assert _verify(auth, _token(_claims(tenant="tenant-a"))).tenant == "tenant-a"
    with pytest.raises(AuthenticationError, match="tenant"):
        _verify(auth, _token(_claims(tenant="tenant-b")))


def test_missing_or_non_bearer_header() -> None:
    auth, _ = _auth()
    with pytest.raises(AuthenticationError, match="no Authorization"):
        asyncio.run(auth.verify(None, (AUD,)))
    with pytest.raises(AuthenticationError, match="not a Bearer"):
        asyncio.run(auth.verify("Basic abc", (AUD,)))


def test_hmac_algorithms_cannot_be_configured() -> None:
    with pytest.raises(AuthConfigurationError, match="HS256"):
        AuthPolicy(issuers={}, algorithms=frozenset({"HS256", "ES384"}))


def _private_jwk(private_key: Any, kid: str, alg: str) -> dict[str, Any]:
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        raw = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private_key))
    else:
        raw = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key))
    raw.update({"kid": kid, "alg": alg, "key_ops": ["sign"]})
    return dict(raw)


def _verify_entry(private_key: Any, kid: str, alg: str) -> dict[str, Any]:
    return {**_jwk(private_key, kid, alg), "key_ops": ["verify"]}


@pytest.mark.parametrize("sign_first", [True, False], ids=["sign-entry-first", "verify-entry-first"])
def test_a_kid_listed_twice_picks_the_verification_entry(sign_first: bool) -> None:
    """The Inferno CRD kit's JWKS lists each kid twice, a signing entry (private key,
    ``key_ops: [sign]``) and a verification entry (``key_ops: [verify]``), for ES384 and RS384."""
    pairs = [
        (_private_jwk(EC_KEY, "kit-es", "ES384"), _verify_entry(EC_KEY, "kit-es", "ES384")),
        (_private_jwk(RSA_KEY, "kit-rs", "RS384"), _verify_entry(RSA_KEY, "kit-rs", "RS384")),
    ]
    keys = [entry for pair in pairs for entry in (pair if sign_first else pair[::-1])]
    auth, fetcher = _auth()
    fetcher.documents[JKU] = {"keys": keys}
    assert _verify(auth, _token(_claims(), kid="kit-es")).iss == ISS
    assert _verify(auth, _token(_claims(), key=RSA_KEY, alg="RS384", kid="kit-rs")).iss == ISS


def test_a_signing_entry_alone_is_not_a_verification_key() -> None:
    auth, fetcher = _auth()
    fetcher.documents[JKU] = {"keys": [_private_jwk(EC_KEY, "kit-es", "ES384")]}
    with pytest.raises(AuthenticationError, match="no key with kid"):
        _verify(auth, _token(_claims(), kid="kit-es"))


def test_one_kid_for_an_ec_and_an_rsa_key_picks_by_algorithm() -> None:
    auth, fetcher = _auth()
    fetcher.documents[JKU] = {"keys": [_jwk(RSA_KEY, "shared", "RS384"), _jwk(EC_KEY, "shared", "ES384")]}
    assert _verify(auth, _token(_claims(), kid="shared")).iss == ISS
    assert _verify(auth, _token(_claims(), key=RSA_KEY, alg="RS384", kid="shared")).iss == ISS
