"""Who sees which prior authorization: a submission is recorded with its client and that
client's organizations; ``$inquire`` finds only submissions for the caller's organizations, and
another client's inquiry is answered exactly as if there were none."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cds.pas.store import pas_claim
from tests.conftest import Client

from .kit import access_token, bearer

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "fhir-examples/pas/16-inquiry-finds-approval"


def _case() -> tuple[dict[str, Any], dict[str, Any]]:
    """The example's submission and inquiry (the inquiry is its bundle.json)."""
    inquiry = json.loads((CASE / "bundle.json").read_text())
    submission = json.loads(
        (ROOT / "fhir-examples/pas/01-approved-relapse-prevention/bundle.json").read_text()
    )
    return submission, inquiry


def test_client_a_submits_b_finds_nothing_a_gets_the_status(secured: Client, secured_app: Any) -> None:
    submission, inquiry = _case()
    a, b = access_token(secured, "ehr-a"), access_token(secured, "ehr-b", "system/Claim.cruds")
    submitted = secured.post("/fhir/Claim/$submit", json=submission, headers=bearer(a))
    assert submitted.status_code == 200, submitted.text

    nothing = secured.post("/fhir/Claim/$inquire", json=inquiry, headers=bearer(b))
    assert nothing.status_code == 200
    assert nothing.json() == {"resourceType": "Parameters"}  # the same answer as no match at all

    found = secured.post("/fhir/Claim/$inquire", json=inquiry, headers=bearer(a))
    assert found.status_code == 200
    bundles = [p["resource"] for p in found.json()["parameter"]]
    assert len(bundles) == 1
    response = bundles[0]["entry"][0]["resource"]
    assert response["preAuthRef"] == submitted.json()["entry"][0]["resource"]["preAuthRef"]

    with secured_app.state.database.engine.connect() as conn:
        rows = [
            dict(r._mapping) for r in conn.execute(select(pas_claim.c.client_id, pas_claim.c.organizations))
        ]
    assert rows == [{"client_id": "ehr-a", "organizations": '["1316923541"]'}]


def test_no_match_and_anothers_match_are_indistinguishable(secured: Client) -> None:
    submission, inquiry = _case()
    a, b = access_token(secured, "ehr-a"), access_token(secured, "ehr-b", "system/Claim.rs")
    before = secured.post("/fhir/Claim/$inquire", json=inquiry, headers=bearer(b))
    secured.post("/fhir/Claim/$submit", json=submission, headers=bearer(a))
    after = secured.post("/fhir/Claim/$inquire", json=inquiry, headers=bearer(b))
    assert (before.status_code, before.content) == (after.status_code, after.content)


def test_another_client_cannot_replay_a_submission_to_read_its_answer(secured: Client) -> None:
    submission, _ = _case()
    a, b = access_token(secured, "ehr-a"), access_token(secured, "ehr-b", "system/Claim.c")
    assert secured.post("/fhir/Claim/$submit", json=submission, headers=bearer(a)).status_code == 200
    again = secured.post("/fhir/Claim/$submit", json=copy.deepcopy(submission), headers=bearer(b))
    assert again.status_code == 409
    assert "preAuthRef" not in again.text
    assert secured.post("/fhir/Claim/$submit", json=submission, headers=bearer(a)).status_code == 200
