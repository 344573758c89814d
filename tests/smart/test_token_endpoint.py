"""The token endpoint: a good assertion gets a 5-minute token with the granted scopes; every
assertion rule of SMART Backend Services refused on its own (``invalid_client``, 401); form
errors per RFC 6749; nothing secret in the logs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import Client

from .kit import ALL_SCOPES, JWK_A, KEY_A, NOW_TS, TOKEN_URL, assertion, token_form


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256_with_public_key() -> str:
    """The classic key-confusion attack: HMAC signed with the client's public key as secret."""
    secret = KEY_A.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "kid": "a1", "typ": "JWT"}).encode())
    claims = {
        "iss": "ehr-a",
        "sub": "ehr-a",
        "aud": TOKEN_URL,
        "exp": int(NOW_TS) + 60,
        "jti": uuid.uuid4().hex,
    }
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _alg_none() -> str:
    claims = {
        "iss": "ehr-a",
        "sub": "ehr-a",
        "aud": TOKEN_URL,
        "exp": int(NOW_TS) + 60,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, None, algorithm="none", headers={"kid": "a1"})


def _tampered() -> str:
    header, payload, signature = assertion().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] += 30
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


# rule -> (the assertion, what the refusal says)
REFUSED: dict[str, tuple[Any, str]] = {
    "alg none": (_alg_none, "alg must be one of"),
    "HS256 signed with the public key": (_hs256_with_public_key, "alg must be one of"),
    "unknown kid": (lambda: assertion(headers={"kid": "nope"}), "no key with kid 'nope'"),
    "unregistered iss": (lambda: assertion(iss="ehr-x", sub="ehr-x"), "not a registered client"),
    # signed with A's key and kid, claiming to be B
    "iss of another client": (lambda: assertion(iss="ehr-b", sub="ehr-b"), "no key with kid 'a1'"),
    "sub not iss": (lambda: assertion(sub="ehr-b"), "sub must equal its iss"),
    "no sub": (lambda: assertion(sub=None), "sub must equal its iss"),
    "wrong aud": (lambda: assertion(aud="http://127.0.0.1:8080/cds-services"), "aud is not this token URL"),
    "expired": (lambda: assertion(exp=int(NOW_TS) - 60), "has expired"),
    "exp more than 5 minutes away": (lambda: assertion(exp=int(NOW_TS) + 301), "more than 5 minutes"),
    "no exp": (lambda: assertion(exp=None), "MissingRequiredClaimError"),
    "no jti": (lambda: assertion(jti=None), "MissingRequiredClaimError"),
    "tampered signature": (_tampered, "InvalidSignatureError"),
    "ES256 (not RS384/ES384)": (
        lambda: assertion(key=ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"),
        "alg must be one of",
    ),
    "signed by a key not registered": (
        lambda: assertion(key=ec.generate_private_key(ec.SECP384R1())),
        "InvalidSignatureError",
    ),
    "jku not the registered JWKS": (
        lambda: assertion(headers={"jku": "https://evil.example/jwks"}),
        "jku is not the client's registered",
    ),
    "not a JWT": (lambda: "not.a.jwt", "not a well-formed JWT"),
}


def test_a_good_assertion_gets_a_short_lived_token_with_the_granted_scopes(secured: Client) -> None:
    response = secured.post("/fhir/auth/token", data=token_form(assertion()))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 300
    # requested ∩ allowed: A may not read ValueSet or Library
    assert body["scope"] == "system/Claim.c system/Claim.rs system/Questionnaire.rs"
    assert response.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == claims["sub"] == "ehr-a"
    assert claims["exp"] - claims["iat"] == 300 and claims["iat"] == int(NOW_TS)


def test_an_rs384_client_gets_a_token(secured: Client) -> None:
    response = secured.post("/fhir/auth/token", data=token_form(assertion("ehr-b"), "system/Claim.rs"))
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "system/Claim.rs"


@pytest.mark.parametrize("rule", list(REFUSED))
def test_each_assertion_rule_is_enforced(secured: Client, rule: str) -> None:
    make, says = REFUSED[rule]
    response = secured.post("/fhir/auth/token", data=token_form(make()))
    assert response.status_code == 401, (rule, response.text)
    assert response.json()["error"] == "invalid_client"
    assert says in response.json()["error_description"]
    assert "access_token" not in response.json()


def test_a_replayed_jti_is_refused(secured: Client) -> None:
    signed = assertion(jti="once")
    assert secured.post("/fhir/auth/token", data=token_form(signed)).status_code == 200
    again = secured.post("/fhir/auth/token", data=token_form(assertion(jti="once")))
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    assert "replay" in again.json()["error_description"]


def test_the_same_jti_from_two_clients_is_not_a_replay(secured: Client) -> None:
    assert secured.post("/fhir/auth/token", data=token_form(assertion(jti="j"))).status_code == 200
    other = token_form(assertion("ehr-b", jti="j"), "system/Claim.rs")
    assert secured.post("/fhir/auth/token", data=other).status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "authorization_code"}, 400, "unsupported_grant_type"),
        ({"grant_type": None}, 400, "invalid_request"),
        ({"client_assertion_type": "urn:other"}, 401, "invalid_client"),
        ({"client_assertion": None}, 401, "invalid_client"),
        ({"scope": None}, 400, "invalid_scope"),
        ({"scope": "system/ValueSet.rs"}, 400, "invalid_scope"),  # not allowed for A
        ({"scope": "system/*.cruds"}, 400, "invalid_scope"),  # widened beyond A's registration
        ({"scope": "patient/Claim.rs launch openid"}, 400, "invalid_scope"),
    ],
)
def test_form_errors_follow_rfc_6749(secured: Client, form: dict[str, Any], status: int, error: str) -> None:
    data = {k: v for k, v in (token_form(assertion()) | form).items() if v is not None}
    response = secured.post("/fhir/auth/token", data=data)
    assert (response.status_code, response.json()["error"]) == (status, error), response.text


def test_a_widened_scope_is_narrowed_to_the_registration(secured: Client) -> None:
    response = secured.post("/fhir/auth/token", data=token_form(assertion(), "system/Claim.c system/Claim.u"))
    assert response.status_code == 200 and response.json()["scope"] == "system/Claim.c"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"grant_type": "client_credentials"}', "application/json"),
        (b"grant_type=client_credentials&grant_type=client_credentials", "application/x-www-form-urlencoded"),
        (b"\xff\xfe=\x00", "application/x-www-form-urlencoded"),
        (b"a=b=c&&&=", "application/x-www-form-urlencoded"),
        (b"x" * 70_000, "application/x-www-form-urlencoded"),
        (b"", "application/x-www-form-urlencoded"),
        (b"grant_type=client_credentials", None),
    ],
)
def test_malformed_bodies_are_invalid_requests(
    secured: Client, body: bytes, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = secured.post("/fhir/auth/token", content=body, headers=headers)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request", response.text


def test_neither_assertions_nor_tokens_are_logged(secured: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    good = assertion()
    token = secured.post("/fhir/auth/token", data=token_form(good)).json()["access_token"]
    bad = assertion(aud="http://elsewhere")
    secured.post("/fhir/auth/token", data=token_form(bad))
    secured.post("/fhir/Claim/$inquire", json={}, headers={"Authorization": f"Bearer {token}x"})
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (good, bad, token, good.split(".")[2], token.split(".")[2]):
        assert secret not in logged
    assert "token request refused" in caplog.text  # the refusal is logged, without the token


def test_the_token_endpoint_audit_row_names_the_client_and_not_the_token(
    secured: Client, secured_app: Any
) -> None:
    secured.post("/fhir/auth/token", data=token_form(assertion()))
    rows = [r for r in secured_app.state.database.audit_rows() if r["endpoint"] == "smart-token"]
    assert [(r["client_iss"], r["status"], r["response"]) for r in rows] == [("ehr-a", 200, None)]


def test_jwk_of_the_kit_is_public_only() -> None:
    assert "d" not in JWK_A
    assert ALL_SCOPES.count("system/") == 5
