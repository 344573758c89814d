"""The Inferno Da Vinci CRD server suite's response rules (issue 19), played on every
``fhir-examples/`` case with the request shapes the kit sends: an order-sign response always
carries ``cards`` and ``systemActions`` (``[]`` when empty), and each variation of the request that
the kit makes is answered with a 200. A failure names the kit's rule it breaks."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cds.app import create_app

from ..conftest import Client, make_settings

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(p.parent for p in (ROOT / "fhir-examples").glob("*/request.json"))
URL = "/cds-services/dli-order-sign"
_APPS: dict[str, Any] = {}


def _as_sent(request: dict[str, Any]) -> dict[str, Any]:
    return request


def _hook_instance_not_hex(request: dict[str, Any]) -> dict[str, Any]:
    request["hookInstance"] = "inferno-order-sign-not-a-uuid"
    return request


def _authorization_without_patient(request: dict[str, Any]) -> dict[str, Any]:
    if isinstance(request.get("fhirAuthorization"), dict):
        request["fhirAuthorization"].pop("patient", None)
    return request


def _unknown_configuration_option(request: dict[str, Any]) -> dict[str, Any]:
    request.setdefault("extension", {}).setdefault("davinci-crd.configuration", {})[
        "inferno-unknown-option"
    ] = True
    return request


SHAPES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "as-sent": _as_sent,
    "hookInstance-not-hex": _hook_instance_not_hex,
    "fhirAuthorization-without-patient": _authorization_without_patient,
    "unknown-configuration-option": _unknown_configuration_option,
}


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Any:
    def get(now: str) -> Client:
        if now not in _APPS:
            moment = dt.datetime.fromisoformat(now.replace("Z", "+00:00"))
            settings = make_settings(tmp_path_factory.mktemp("inferno"))
            _APPS[now] = create_app(settings, clock=lambda: moment)
        return Client(_APPS[now])

    yield get
    for app in _APPS.values():
        app.state.database.close()
    _APPS.clear()


def _rule_failures(body: dict[str, Any]) -> list[str]:
    """The kit's response-validation rules an order-sign answer breaks."""
    failures = []
    if not isinstance(body.get("cards"), list):
        failures.append("Hook response did not contain `cards` (an array)")
    if not isinstance(body.get("systemActions"), list):
        failures.append("Hook response did not contain `systemActions` (an array, empty when none)")
    for card in body.get("cards") or []:
        if not (card.get("source") or {}).get("label"):
            failures.append("Card `source` does not contain a `label`")
    for action in body.get("systemActions") or []:
        if action.get("type") not in {"create", "update", "delete"}:
            failures.append("System action `type` is not create, update or delete")
        if not isinstance(action.get("resource"), dict) and action.get("type") != "delete":
            failures.append("System action does not contain a `resource`")
    return failures


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_order_sign_response_rules(case: Path, shape: str, apps: Any) -> None:
    meta = json.loads((case / "case.json").read_text())
    request = SHAPES[shape](copy.deepcopy(json.loads((case / "request.json").read_text())))
    response = apps(meta["now"]).post(URL, json=request)
    assert response.status_code == 200, f"Unexpected response status {response.status_code}: {response.text}"
    assert _rule_failures(response.json()) == []


def test_the_cases_include_an_answer_without_coverage_information(apps: Any) -> None:
    """The rule matters where there is nothing to say: a case without a Coverage or without an
    order in scope answers with ``systemActions: []``."""
    empty = []
    for case in CASES:
        meta = json.loads((case / "case.json").read_text())
        body = apps(meta["now"]).post(URL, json=json.loads((case / "request.json").read_text())).json()
        if body.get("systemActions") == []:
            empty.append(case.name)
    assert empty, "no fhir-examples case answers with an empty systemActions"
