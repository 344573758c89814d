"""Two registered SMART clients (A: ES384, B: RS384, different organizations), assertions they
sign, and an app with authentication on."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cds.settings import Settings
from tests.conftest import NOW, Client, make_settings

BASE = "http://127.0.0.1:8080"
FHIR = f"{BASE}/fhir"
TOKEN_URL = f"{FHIR}/auth/token"
NOW_TS = NOW.timestamp()
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALL_SCOPES = "system/Claim.c system/Claim.rs system/Questionnaire.rs system/ValueSet.rs system/Library.rs"

KEY_A = ec.generate_private_key(ec.SECP384R1())
KEY_B = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWK_A = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(KEY_A.public_key())) | {"kid": "a1", "alg": "ES384"}
JWK_B = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY_B.public_key())) | {"kid": "b1", "alg": "RS384"}
CLIENT_A = {
    "client_id": "ehr-a",
    "jwks": {"keys": [JWK_A]},
    "scopes": ["system/Claim.c", "system/Claim.rs", "system/Questionnaire.rs", "system/AuditEvent.rs"],
    "organizations": ["1316923541"],
}
CLIENT_B = {
    "client_id": "ehr-b",
    "jwks": {"keys": [JWK_B]},
    "scopes": ["system/Claim.cruds"],
    "organizations": ["1999999984"],
}
KEYS: dict[str, tuple[Any, str, str]] = {"ehr-a": (KEY_A, "ES384", "a1"), "ehr-b": (KEY_B, "RS384", "b1")}


def secured_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "auth_mode": "required",
        "smart_clients": [CLIENT_A, CLIENT_B],
        "smart_clients_file": None,
        "smart_signing_key_file": tmp_path / "signing-key.pem",
    }
    return make_settings(tmp_path, **(values | overrides))


def assertion(
    client_id: str = "ehr-a",
    *,
    now: float = NOW_TS,
    headers: dict[str, Any] | None = None,
    key: Any = None,
    algorithm: str | None = None,
    **claims: Any,
) -> str:
    own_key, own_alg, kid = KEYS[client_id]
    payload = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_URL,
        "exp": int(now) + 240,
        "jti": uuid.uuid4().hex,
    } | claims
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(
        payload,
        key if key is not None else own_key,
        algorithm=algorithm or own_alg,
        headers={"kid": kid} | (headers or {}),
    )


def token_form(signed: str, scope: str = ALL_SCOPES, **fields: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        "scope": scope,
    } | fields


def access_token(client: Client, client_id: str = "ehr-a", scope: str = ALL_SCOPES) -> str:
    response = client.post("/fhir/auth/token", data=token_form(assertion(client_id), scope))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
