"""Scopes enforced per route: 401 without an acceptable token, 403 without the scope, each with
an OperationOutcome and ``WWW-Authenticate``; token expiry on the app's clock; tokens of another
issuer refused; discovery open; authentication off opens everything and says so."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi import Depends
from starlette.requests import Request
from starlette.responses import Response

from cds.app import create_app
from cds.smart.access_token import TokenService, load_signing_key
from cds.smart.configuration import capability_security
from cds.smart.guard import protect, require_scopes
from cds.smart.scopes import ROUTE_SCOPES
from tests.conftest import NOW, Client, make_settings
from tests.service.test_auth_required import _token as hook_jwt

from .conftest import MovableClock
from .kit import FHIR, NOW_TS, TOKEN_URL, access_token, bearer, secured_settings

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = json.loads((ROOT / "fhir-examples/pas/01-approved-relapse-prevention/bundle.json").read_text())


def _is_outcome(response: Any, code: str) -> None:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == code


def test_smart_configuration_is_open_and_names_the_token_endpoint(secured: Client) -> None:
    response = secured.get("/fhir/.well-known/smart-configuration")
    assert response.status_code == 200
    body = response.json()
    assert body["token_endpoint"] == TOKEN_URL
    assert body["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert set(body["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert body["grant_types_supported"] == ["client_credentials"]
    assert {"system/Questionnaire.rs", "system/ValueSet.rs", "system/Library.rs", "system/Claim.c"} <= set(
        body["scopes_supported"]
    )


def test_capability_security_declares_smart_with_the_token_url() -> None:
    security = capability_security(FHIR)
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    assert security["extension"][0]["extension"] == [{"url": "token", "valueUri": TOKEN_URL}]


def test_the_capability_statement_declares_smart_security_when_it_is_on(secured: Client, tmp_path: Path) -> None:
    statement = secured.get("/fhir/metadata")  # open: a client discovers how to authenticate
    assert statement.status_code == 200
    assert statement.json()["rest"][0]["security"] == capability_security(FHIR)
    open_app = create_app(make_settings(tmp_path), clock=lambda: NOW)
    assert "security" not in Client(open_app).get("/fhir/metadata").json()["rest"][0]  # nothing to declare
    open_app.state.database.close()


@pytest.mark.parametrize("operation", ["$submit", "$inquire"])
def test_pas_without_a_token_is_401_with_an_outcome_and_a_challenge(secured: Client, operation: str) -> None:
    response = secured.post(f"/fhir/Claim/{operation}", json=BUNDLE)
    assert response.status_code == 401
    _is_outcome(response, "login")
    assert response.headers["www-authenticate"] == 'Bearer realm="dli-cds"'


def test_a_cds_hooks_jwt_is_not_an_access_token(secured: Client) -> None:
    response = secured.post(
        "/fhir/Claim/$submit", json=BUNDLE, headers=bearer(hook_jwt(f"{FHIR}/Claim/$submit"))
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_token_without_the_scope_is_403(secured: Client) -> None:
    token = access_token(secured, scope="system/Claim.rs")  # may inquire, not submit
    response = secured.post("/fhir/Claim/$submit", json=BUNDLE, headers=bearer(token))
    assert response.status_code == 403
    _is_outcome(response, "forbidden")
    assert response.headers["www-authenticate"].endswith('error="insufficient_scope", scope="system/Claim.c"')
    assert secured.post("/fhir/Claim/$inquire", json=BUNDLE, headers=bearer(token)).status_code == 200


def test_the_token_expires_on_the_apps_clock(secured: Client, clock: MovableClock) -> None:
    token = access_token(secured)
    assert secured.post("/fhir/Claim/$submit", json=BUNDLE, headers=bearer(token)).status_code == 200
    clock.advance(299)
    assert secured.post("/fhir/Claim/$submit", json=BUNDLE, headers=bearer(token)).status_code == 200
    clock.advance(10)
    response = secured.post("/fhir/Claim/$submit", json=BUNDLE, headers=bearer(token))
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_token_from_another_issuer_is_refused(secured: Client, tmp_path: Path) -> None:
    other_key = TokenService(load_signing_key("", tmp_path / "other.pem"))
    foreign, _ = other_key.issue(FHIR, "ehr-a", ["system/Claim.c"], NOW_TS)  # another server's key
    assert secured.post("/fhir/Claim/$submit", json=BUNDLE, headers=bearer(foreign)).status_code == 401
    same_key = TokenService(load_signing_key("", tmp_path / "signing-key.pem"))  # the app's own key
    elsewhere, _ = same_key.issue("https://other.example/fhir", "ehr-a", ["system/Claim.c"], NOW_TS)
    assert secured.post("/fhir/Claim/$submit", json=BUNDLE, headers=bearer(elsewhere)).status_code == 401
    ours, _ = same_key.issue(FHIR, "ehr-a", ["system/Claim.c"], NOW_TS)
    assert secured.post("/fhir/Claim/$submit", json=BUNDLE, headers=bearer(ours)).status_code == 200


def test_workers_sharing_the_key_file_verify_each_others_tokens(tmp_path: Path) -> None:
    clock = MovableClock()
    first = create_app(secured_settings(tmp_path), clock=clock)
    second = create_app(secured_settings(tmp_path), clock=clock)
    try:
        token = access_token(Client(first))
        response = Client(second).post("/fhir/Claim/$inquire", json=BUNDLE, headers=bearer(token))
        assert response.status_code == 200, response.text
    finally:
        first.state.database.close()
        second.state.database.close()


def test_a_route_declares_its_scopes_in_one_line(secured_app: Any, secured: Client) -> None:
    @secured_app.get("/fhir/Library", dependencies=[Depends(require_scopes("system/Library.rs"))])
    async def libraries() -> dict[str, str]:
        return {"resourceType": "Bundle"}

    @secured_app.get(
        "/fhir/Questionnaire-test", dependencies=[Depends(require_scopes("system/Questionnaire.rs"))]
    )
    async def questionnaires() -> dict[str, str]:
        return {"resourceType": "Bundle"}

    token = access_token(secured)  # A: Questionnaire.rs, no Library
    assert secured.get("/fhir/Questionnaire-test", headers=bearer(token)).status_code == 200
    refused = secured.get("/fhir/Library", headers=bearer(token))
    assert refused.status_code == 403 and 'scope="system/Library.rs"' in refused.headers["www-authenticate"]
    _is_outcome(refused, "forbidden")
    missing = secured.get("/fhir/Library")
    assert missing.status_code == 401
    _is_outcome(missing, "login")


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("/fhir/Library/{id}", "/fhir/Library/DLIPrepopulation"),
        ("/fhir/ValueSet/$expand", "/fhir/ValueSet/$expand?url=https://dli-cds.org/fhir/ValueSet/current-smoker"),
        ("/fhir/ValueSet/{id}", "/fhir/ValueSet/current-smoker"),
    ],
)
def test_the_dtr_routes_are_protected_from_the_route_table(
    secured_app: Any, secured: Client, path: str, url: str
) -> None:
    """The real DTR routes (cds/dtr/), each behind its scope from ROUTE_SCOPES."""
    assert secured.get(url).status_code == 401
    a_token = access_token(secured)  # A: no ValueSet or Library scope
    assert secured.get(url, headers=bearer(a_token)).status_code == 403
    guard = secured_app.state.smart
    token, _ = guard.tokens.issue(FHIR, "ehr-a", [s.text for s in ROUTE_SCOPES[path].needed], NOW_TS)
    response = secured.get(url, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["resourceType"] in ("Library", "ValueSet")


def test_protect_wraps_a_plain_route(secured_app: Any, secured: Client) -> None:
    async def handler(_request: Request) -> Response:
        return Response(b"{}", media_type="application/fhir+json")

    secured_app.add_route("/fhir/Basic/x", protect(handler, ROUTE_SCOPES["/fhir/Library/{id}"]), methods=["GET"])
    assert secured.get("/fhir/Basic/x").status_code == 401
    guard = secured_app.state.smart
    token, _ = guard.tokens.issue(FHIR, "ehr-a", ["system/Library.rs"], NOW_TS)
    assert secured.get("/fhir/Basic/x", headers=bearer(token)).status_code == 200


def test_the_questionnaire_needs_its_read_scope(secured: Client) -> None:
    assert secured.get("/fhir/Questionnaire/dli-cp-mp-101").status_code == 401
    b_token = access_token(secured, "ehr-b", "system/Claim.rs")
    assert secured.get("/fhir/Questionnaire", headers=bearer(b_token)).status_code == 403
    a_token = access_token(secured, "ehr-a", "system/Questionnaire.rs")
    response = secured.get("/fhir/Questionnaire/dli-cp-mp-101", headers=bearer(a_token))
    assert response.status_code == 200 and response.json()["resourceType"] == "Questionnaire"


def test_the_audit_row_of_a_fhir_call_names_the_client(secured: Client, secured_app: Any) -> None:
    secured.post("/fhir/Claim/$submit", json=BUNDLE, headers=bearer(access_token(secured)))
    rows = [r for r in secured_app.state.database.audit_rows() if r["endpoint"] == "pas-submit"]
    assert [(r["client_iss"], r["status"]) for r in rows] == [("ehr-a", 200)]


def test_workbench_activity_needs_the_audit_scope_when_authentication_is_on(tmp_path: Path) -> None:
    app = create_app(secured_settings(tmp_path, workbench=True), clock=MovableClock())
    client = Client(app)
    try:
        assert client.get("/workbench/activity").status_code == 401
        assert client.get("/workbench/activity/call?id=1").status_code == 401
        b_token = access_token(client, "ehr-b", "system/Claim.rs")
        assert client.get("/workbench/activity", headers=bearer(b_token)).status_code == 403
        a_token = access_token(client, "ehr-a", "system/AuditEvent.rs")
        assert client.get("/workbench/activity", headers=bearer(a_token)).status_code == 200
    finally:
        app.state.database.close()


def test_with_authentication_off_everything_is_open_and_said_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    app = create_app(make_settings(tmp_path), clock=lambda: NOW)
    client = Client(app)
    try:
        assert "SMART BACKEND SERVICES ARE OFF" in caplog.text
        assert client.post("/fhir/Claim/$submit", json=BUNDLE).status_code == 200
        assert client.get("/workbench/activity").status_code == 200
        assert client.get("/fhir/.well-known/smart-configuration").json()["dli_cds_authentication"] == "off"
        token = client.post("/fhir/auth/token", data={"grant_type": "client_credentials"})
        assert token.status_code == 400 and "authentication is off" in token.json()["error_description"]
        assert not (tmp_path / "signing-key.pem").exists()
    finally:
        app.state.database.close()
