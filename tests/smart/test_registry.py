"""The client registry: what a registration must say (refused at load, saying which entry),
``dli-cds clients add|list`` (no traceback on bad input), the signing key shared through its
file, and JWKS URLs fetched once and cached."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from cds.cli import main
from cds.client_auth import MemoryReplayStore
from cds.smart.access_token import SigningKeyError, TokenService, load_signing_key
from cds.smart.clients import ClientConfigurationError, load_registry, read_client
from cds.smart.scopes import ScopeRequirement, grant, parse_scopes
from cds.smart.token_endpoint import TokenEndpoint

from .kit import CLIENT_A, FHIR, JWK_A, NOW_TS, TOKEN_URL, assertion, token_form


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"client_id": ""}, "client_id"),
        ({"jwks_url": "https://x.example/jwks"}, "exactly one of jwks_url and jwks"),
        ({"jwks": {"keys": []}}, "non-empty 'keys'"),
        ({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}}, "asymmetric"),
        ({"jwks": {"keys": [{k: v for k, v in JWK_A.items() if k != "kid"}]}}, "needs a kid"),
        ({"scopes": []}, "non-empty list"),
        ({"scopes": ["patient/Claim.read"]}, "not a SMART system scope"),
        ({"scopes": ["system/Claim.rc"]}, "not a SMART system scope"),  # letters out of order
        ({"organizations": ["12345"]}, "10-digit NPIs"),
    ],
)
def test_a_bad_registration_is_refused_saying_why(change: dict[str, Any], says: str) -> None:
    with pytest.raises(ClientConfigurationError, match=says):
        read_client(CLIENT_A | change, "test")


def test_a_client_registered_twice_is_refused() -> None:
    with pytest.raises(ClientConfigurationError, match="registered twice"):
        load_registry(None, [CLIENT_A, CLIENT_A])


@pytest.mark.parametrize(
    ("requested", "allowed", "granted"),
    [
        ("system/Claim.c system/Claim.r", ["system/Claim.cruds"], ["system/Claim.c", "system/Claim.r"]),
        ("system/Claim.read", ["system/Claim.rs"], ["system/Claim.read"]),
        ("system/Claim.rs", ["system/*.read"], ["system/Claim.rs"]),
        ("system/*.rs", ["system/Claim.rs"], []),
        ("system/Claim.cu", ["system/Claim.c"], []),
        ("system/Claim.c system/Claim.c", ["system/Claim.c"], ["system/Claim.c"]),
        ("user/Claim.c system/Claim.c?status=active", ["system/Claim.c"], []),
    ],
)
def test_granted_scopes_are_those_wholly_allowed(
    requested: str, allowed: list[str], granted: list[str]
) -> None:
    assert grant(requested, parse_scopes(allowed)) == granted


def test_a_requirement_is_met_letter_by_letter() -> None:
    need = ScopeRequirement.of("system/Questionnaire.rs")
    assert need.met_by(["system/Questionnaire.r", "system/*.s"])
    assert need.met_by(["system/Questionnaire.read"])
    assert not need.met_by(["system/Questionnaire.r"])
    assert not need.met_by(["system/ValueSet.rs", "garbage"])


def test_clients_add_then_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = tmp_path / "clients.json"
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [JWK_A]}))
    argv = [
        "clients",
        "add",
        "ehr-a",
        "--jwks-file",
        str(jwks),
        "--scope",
        "system/Claim.c",
        "--npi",
        "1316923541",
    ]
    assert main([*argv, "--file", str(registry)]) == 0
    printed = capsys.readouterr().out
    assert "/fhir/auth/token" in printed and "iss = sub = ehr-a" in printed
    url = [
        "clients",
        "add",
        "ehr-b",
        "--jwks-url",
        "https://b.example/jwks.json",
        "--scope",
        "system/Claim.rs",
    ]
    assert main([*url, "--file", str(registry)]) == 0
    capsys.readouterr()
    assert main(["clients", "list", "--file", str(registry)]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [c["client_id"] for c in listed] == ["ehr-a", "ehr-b"]
    loaded = load_registry(registry, [])
    assert loaded.get("ehr-a") is not None and loaded.get("ehr-a").organizations == ("1316923541",)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "argv",
    [
        ["clients", "add", "x", "--jwks-url", "ftp://nope", "--scope", "system/Claim.c"],
        ["clients", "add", "x", "--jwks-url", "https://a/j", "--scope", "everything"],
        ["clients", "add", "x", "--jwks-url", "https://a/j", "--scope", "system/Claim.c", "--npi", "1"],
        ["clients", "add", "x", "--jwks-file", "/does/not/exist.json", "--scope", "system/Claim.c"],
    ],
)
def test_clients_add_refuses_bad_input_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert main([*argv, "--file", str(tmp_path / "c.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert not (tmp_path / "c.json").exists()


def test_a_broken_registry_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = tmp_path / "c.json"
    registry.write_text("{not json")
    assert main(["clients", "list", "--file", str(registry)]) == 2
    assert "not a readable JSON file" in capsys.readouterr().err


def test_the_signing_key_is_made_once_and_shared(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    first, second = TokenService(load_signing_key("", path)), TokenService(load_signing_key("", path))
    assert first.kid == second.kid and path.stat().st_mode & 0o777 == 0o600
    token, _ = first.issue(FHIR, "ehr-a", ["system/Claim.c"], NOW_TS)
    assert second.verify(f"Bearer {token}", FHIR, NOW_TS).client_id == "ehr-a"
    path.write_text("not a key")
    with pytest.raises(SigningKeyError):
        load_signing_key("", path)


def test_a_jwks_url_is_fetched_once_and_cached(tmp_path: Path) -> None:
    fetched: list[str] = []

    async def fetch_json(url: str) -> Any:
        fetched.append(url)
        return {"keys": [JWK_A]}

    client = CLIENT_A | {"jwks": None, "jwks_url": "https://a.example/jwks.json"}
    client.pop("jwks")
    endpoint = TokenEndpoint(
        load_registry(None, [client]),
        TokenService(load_signing_key("", tmp_path / "k.pem")),
        fetch_json,
        MemoryReplayStore(),
    )

    async def two_tokens() -> list[str]:
        return [
            (await endpoint.exchange(token_form(assertion()), TOKEN_URL, FHIR, NOW_TS)).scope
            for _ in range(2)
        ]

    assert asyncio.run(two_tokens()) == ["system/Claim.c system/Claim.rs system/Questionnaire.rs"] * 2
    assert fetched == ["https://a.example/jwks.json"]
