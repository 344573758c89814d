"""The PAS routes behind SMART Backend Services (an access token with the operation's Claim
scope; tests/smart covers the rules), and the
decision core's fault path through PAS: time that runs out pends the item (A4) with the reason,
never a 5xx."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cds.app import create_app
from cds.decision_core import DecisionCore
from cds.evaluation import PolicyEngine
from cds.fhir_client import FhirClient
from cds.limits import Deadline
from cds.pas.claim_response import COMMUNICATION_PROFILE
from cds.pas.review_action import action_code
from cds.pas.service import ClaimService
from cds.settings import Settings
from tests.service.test_auth_required import BASE, _token
from tests.smart.kit import access_token, bearer, secured_settings

from ..conftest import NOW, Client
from .bundles import pas_bundle

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = json.loads((ROOT / "fhir-examples/pas/01-approved-relapse-prevention/bundle.json").read_text())


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Client]:
    app = create_app(secured_settings(tmp_path), clock=lambda: NOW)
    yield Client(app)
    app.state.database.close()


@pytest.mark.parametrize("operation", ["$submit", "$inquire"])
def test_pas_needs_an_access_token(secured: Client, operation: str) -> None:
    path = f"/fhir/Claim/{operation}"
    assert secured.post(path, json=BUNDLE).status_code == 401
    hook_jwt = {"Authorization": f"Bearer {_token(f'{BASE}{path}')}"}  # a CDS Hooks JWT is not one
    assert secured.post(path, json=BUNDLE, headers=hook_jwt).status_code == 401
    assert secured.post(path, json=BUNDLE, headers=bearer(access_token(secured))).status_code == 200


def test_time_running_out_pends_the_item() -> None:
    settings = Settings()
    core = DecisionCore(PolicyEngine(settings.cql_dir), FhirClient(0.2, 1), 4.0)
    service = ClaimService(core, store=None)
    request = json.loads((ROOT / "fhir-examples/01-meets-aml-relapse-prevention/request.json").read_text())
    bundle = pas_bundle(request, "late-1", "2026-11-24T10:00:00Z")
    expired = Deadline(0.0, start=0.0)  # long past
    result = asyncio.run(
        service.submit(
            bundle, now=dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC), questionnaire_url="q", deadline=expired
        )
    )
    response: dict[str, Any] = result.body["entry"][0]["resource"]
    assert [action_code(i) for i in response["item"]] == ["A4"]
    assert "preAuthRef" not in response
    assert response["processNote"][0]["text"].startswith(
        "Pended: The coverage requirements could not be determined"
    )
    kinds = {e["resource"].get("meta", {}).get("profile", [""])[0] for e in result.body["entry"]}
    assert COMMUNICATION_PROFILE not in kinds  # nothing is asked of the provider: it is ours to decide
    assert result.orders == [
        {"order": "ServiceRequest/dli-1", "outcome": "indeterminate", "review_action": "A4"}
    ]
