"""With authentication required, only a client with a valid JWT gets in (bare 401 otherwise);
preflight needs no token."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cds.app import create_app
from tests.conftest import NOW, Client, make_settings

ROOT = Path(__file__).resolve().parents[2]
REQUEST = json.loads(
    (ROOT / "fhir-examples" / "01-meets-aml-relapse-prevention" / "request.json").read_text()
)
ISS = "https://ehr.example.org"
BASE = "http://127.0.0.1:8080"
KEY = ec.generate_private_key(ec.SECP384R1())
JWK = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(KEY.public_key())) | {"kid": "k1", "alg": "ES384"}


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = make_settings(
        tmp_path_factory.mktemp("auth"), auth_mode="required", auth_issuers={ISS: {"jwks": {"keys": [JWK]}}}
    )
    app = create_app(settings, clock=lambda: NOW)
    yield Client(app)
    app.state.database.close()


def _token(aud: str, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISS, "aud": aud, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex} | claims
    return jwt.encode(payload, KEY, algorithm="ES384", headers={"kid": "k1", "typ": "JWT"})


def test_no_token_is_a_bare_401(secured: Client) -> None:
    for response in (
        secured.get("/cds-services"),
        secured.post("/cds-services/dli-order-sign", json=REQUEST),
    ):
        assert response.status_code == 401 and response.content == b""


def test_valid_token_gets_in_and_replay_does_not(secured: Client) -> None:
    token = _token(f"{BASE}/cds-services/dli-order-sign")
    headers = {"Authorization": f"Bearer {token}"}
    assert secured.post("/cds-services/dli-order-sign", json=REQUEST, headers=headers).status_code == 200
    assert secured.post("/cds-services/dli-order-sign", json=REQUEST, headers=headers).status_code == 401


def test_a_token_sent_twice_at_once_gets_in_once(secured: Client) -> None:
    """The replay check runs off the event loop: requests with one token arriving together
    still let exactly one in."""
    headers = {"Authorization": f"Bearer {_token(f'{BASE}/cds-services/dli-order-sign')}"}

    async def both() -> list[int]:
        transport = httpx.ASGITransport(app=secured.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            calls = [client.post("/cds-services/dli-order-sign", json=REQUEST, headers=headers) for _ in range(4)]
            return sorted(r.status_code for r in await asyncio.gather(*calls))

    assert asyncio.run(both()) == [200, 401, 401, 401]


def test_audience_is_the_endpoint(secured: Client) -> None:
    wrong = {"Authorization": f"Bearer {_token(f'{BASE}/cds-services/dli-order-sign')}"}
    assert secured.get("/cds-services", headers=wrong).status_code == 401
    right = {"Authorization": f"Bearer {_token(f'{BASE}/cds-services')}"}
    response = secured.get("/cds-services", headers=right)
    assert response.status_code == 200 and "OFF" not in response.json()["services"][0]["description"]


def test_feedback_accepts_the_feedback_or_service_audience(secured: Client) -> None:
    body = {"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-24T10:00:00Z"}]}
    for aud in (f"{BASE}/cds-services/dli-order-sign/feedback", f"{BASE}/cds-services/dli-order-sign"):
        headers = {"Authorization": f"Bearer {_token(aud)}"}
        assert (
            secured.post("/cds-services/dli-order-sign/feedback", json=body, headers=headers).status_code
            == 200
        )


def test_preflight_needs_no_token(secured: Client) -> None:
    response = secured.options(
        "/cds-services/dli-order-sign",
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
