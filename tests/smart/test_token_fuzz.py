"""The resilience suite on the token endpoint (hypothesis): generated form bodies, content
types, and assertions with mutated headers, claims and signatures are answered 400 or 401 with
an RFC 6749 error body, never a 5xx; only an unmodified good assertion gets a token. CI runs a
few hundred examples; ``FUZZ_EXAMPLES=10000`` for the full run."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds.app import create_app
from tests.conftest import NOW, Client
from tests.service.conftest import GENERATED

from .kit import ASSERTION_TYPE, TOKEN_URL, assertion, secured_settings

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
DERANDOMIZE = "FUZZ_EXAMPLES" not in os.environ
FIELDS = ["grant_type", "client_assertion_type", "client_assertion", "scope", "client_id", "x"]
CLAIM_VALUES = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.text(max_size=30)
    | st.lists(st.text(max_size=5), max_size=3)
)

_CLIENT: Client | None = None


def _client() -> Client:
    global _CLIENT
    if _CLIENT is None:
        _CLIENT = Client(create_app(secured_settings(Path(tempfile.mkdtemp())), clock=lambda: NOW))
    return _CLIENT


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@st.composite
def assertions(draw: st.DrawFn) -> str:
    """A good assertion with one part replaced: header, claims or signature."""
    header, payload, signature = assertion(draw(st.sampled_from(["ehr-a", "ehr-b"]))).split(".")
    part = draw(st.sampled_from(["header", "claims", "signature", "segments"]))
    if part == "header":
        fields = {"alg": "ES384", "kid": "a1"} | draw(
            st.dictionaries(
                st.sampled_from(["alg", "kid", "typ", "jku", "crit", "x5u"]), CLAIM_VALUES, min_size=1
            )
        )
        header = _b64(json.dumps(fields).encode())
    elif part == "claims":
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims |= draw(
            st.dictionaries(
                st.sampled_from(["iss", "sub", "aud", "exp", "jti", "nbf"]), CLAIM_VALUES, min_size=1
            )
        )
        payload = _b64(json.dumps(claims).encode())
    elif part == "signature":
        signature = _b64(draw(st.binary(max_size=120)))
    else:
        return draw(st.text(alphabet="abcAB._-=", max_size=60))
    return f"{header}.{payload}.{signature}"


@st.composite
def token_requests(draw: st.DrawFn) -> tuple[bytes, str]:
    kind = draw(st.integers(0, 9))
    content_type = "application/x-www-form-urlencoded"
    if kind == 0:
        return draw(st.binary(max_size=200)), draw(
            st.sampled_from([content_type, "application/json", "text/plain", ""])
        )
    if kind == 1:
        pairs = draw(st.lists(st.tuples(st.sampled_from(FIELDS), st.text(max_size=40)), max_size=8))
        return urlencode(pairs).encode(), content_type
    form: dict[str, Any] = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": draw(assertions()),
        "scope": draw(st.sampled_from(["system/Claim.rs", "system/*.*", "", "system/Claim.c openid"])),
    }
    for name in draw(st.lists(st.sampled_from(FIELDS[:4]), max_size=2)):
        form.pop(name, None)
    return urlencode(form).encode(), content_type


@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=DERANDOMIZE
)
@given(token_requests())
def test_generated_token_requests_never_fail_the_server(request: tuple[bytes, str]) -> None:
    body, content_type = request
    headers = {"Content-Type": content_type} if content_type else {}
    response = _client().post("/fhir/auth/token", content=body, headers=headers)
    GENERATED["token endpoint requests"] += 1
    assert response.status_code in (400, 401), response.text  # nothing generated is a valid request
    assert set(response.json()) == {"error", "error_description"}
    assert response.json()["error"] in {
        "invalid_request",
        "invalid_client",
        "invalid_scope",
        "unsupported_grant_type",
    }


def test_the_audience_is_the_token_url() -> None:
    assert TOKEN_URL.endswith("/fhir/auth/token")
