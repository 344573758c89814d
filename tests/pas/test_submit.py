"""``$submit`` and ``$inquire`` over HTTP: idempotency on the Claim identifier, storage before the
answer, the audit row, the CRD assertion id carried through, and query by example."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
from typing import Any

from cds.decision_core import DecisionCore
from cds.evaluation import PolicyEngine
from cds.fhir_client import FhirClient
from cds.limits import Deadline
from cds.pas.claim_response import ASSERTION_SYSTEM, ITEM_TRACE_NUMBER
from cds.pas.review_action import action_code
from cds.pas.service import ClaimService
from cds.pas.store import ClaimStore

from ..conftest import Client
from .bundles import example_request, inquiry_bundle, pas_bundle

NOW = "2026-11-24T10:00:00Z"


def _submit(client: Client, bundle: dict[str, Any]) -> Any:
    return client.post("/fhir/Claim/$submit", json=bundle)


def test_same_submission_twice_is_answered_once(client: Client, app: Any) -> None:
    bundle = pas_bundle(example_request("01-meets-aml-relapse-prevention"), "idem-1", NOW)
    first = _submit(client, bundle)
    again = copy.deepcopy(bundle)
    again["timestamp"] = "2026-11-24T10:05:00Z"  # a resend: the entries are what count
    second = _submit(client, again)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    stored = ClaimStore(app.state.database.engine).get("urn:trnorg:1316923541|idem-1")
    assert stored is not None and stored.response == first.json()


def test_reused_identifier_with_other_content_is_a_conflict(client: Client) -> None:
    bundle = pas_bundle(example_request("01-meets-aml-relapse-prevention"), "idem-2", NOW)
    assert _submit(client, bundle).status_code == 200
    other = pas_bundle(example_request("23-current-smoker"), "idem-2", NOW)
    response = _submit(client, other)
    assert response.status_code == 409
    issue = response.json()["issue"][0]
    assert issue["code"] == "duplicate"
    assert issue["expression"] == ["Bundle.entry[0].resource.identifier"]


def test_audit_row_names_the_review(client: Client, app: Any) -> None:
    bundle = pas_bundle(example_request("23-current-smoker"), "audit-1", NOW)
    assert _submit(client, bundle).status_code == 200
    rows = [r for r in app.state.database.audit_rows() if r["endpoint"] == "pas-submit"]
    assert len(rows) == 1
    assert rows[0]["status"] == 200 and rows[0]["patient_id"] == "pat-23" and rows[0]["service"] == "pas"
    assert json.loads(rows[0]["orders"]) == [
        {"order": "ServiceRequest/dli-1", "outcome": "not-medically-necessary", "review_action": "A3"}
    ]


def test_refused_submission_is_audited_and_not_stored(client: Client, app: Any) -> None:
    bundle = pas_bundle(example_request("37-leukocyte-transfusion-out-of-scope"), "scope-1", NOW)
    assert _submit(client, bundle).status_code == 422
    assert ClaimStore(app.state.database.engine).get("urn:trnorg:1316923541|scope-1") is None
    rows = [r for r in app.state.database.audit_rows() if r["endpoint"] == "pas-submit"]
    assert [r["status"] for r in rows] == [422]


def test_crd_assertion_id_is_carried_through(client: Client) -> None:
    bundle = pas_bundle(example_request("05-no-indication-recorded"), "crd-1", NOW)
    order = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest")
    order["extension"] = [
        {
            "url": "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information",
            "extension": [{"url": "coverage-assertion-id", "valueString": "crd-assert-05"}],
        }
    ]
    body = _submit(client, bundle).json()
    item = body["entry"][0]["resource"]["item"][0]
    traces = [e["valueIdentifier"] for e in item["extension"] if e["url"] == ITEM_TRACE_NUMBER]
    assert traces == [{"system": ASSERTION_SYSTEM, "value": "crd-assert-05"}]
    request = next(
        e["resource"] for e in body["entry"] if e["resource"]["resourceType"] == "CommunicationRequest"
    )
    assert request["identifier"] == [{"system": ASSERTION_SYSTEM, "value": "crd-assert-05"}]
    assert request["payload"] == [{"contentString": "102089-0"}]
    assert "http://127.0.0.1:8080/fhir/Questionnaire/dli-cp-mp-101" in request["note"][0]["text"]


def test_questionnaire_answers_decide_the_resubmission(client: Client) -> None:
    """Pended for documentation → answered through DTR → submitted again (new identifier) → certified."""
    pended = _submit(client, pas_bundle(example_request("07-transplant-status-only"), "loop-1", NOW)).json()
    assert action_code(pended["entry"][0]["resource"]["item"][0]) == "A4"
    answered = _submit(
        client, pas_bundle(example_request("33-questionnaire-closes-hsct-loop"), "loop-2", NOW)
    ).json()
    response = answered["entry"][0]["resource"]
    assert action_code(response["item"][0]) == "A1"
    assert response["preAuthRef"].startswith("DLI-")


def test_inquiry_finds_the_stored_decision(client: Client, app: Any) -> None:
    bundle = pas_bundle(example_request("01-meets-aml-relapse-prevention"), "inq-src", NOW)
    submitted = _submit(client, bundle).json()
    response = client.post("/fhir/Claim/$inquire", json=inquiry_bundle(bundle))
    assert response.status_code == 200, response.text
    audited = [r for r in app.state.database.audit_rows() if r["endpoint"] == "pas-inquire"]
    assert [(r["status"], r["patient_id"]) for r in audited] == [(200, "pat-01")]
    result = response.json()
    assert result["resourceType"] == "Parameters"
    assert [p["name"] for p in result["parameter"]] == ["return"]
    found = result["parameter"][0]["resource"]
    assert found["identifier"]["value"] == "inq-1"
    claim_response = found["entry"][0]["resource"]
    assert claim_response["resourceType"] == "ClaimResponse"
    assert claim_response["meta"]["profile"][0].endswith("profile-claiminquiryresponse")
    assert claim_response["item"] == submitted["entry"][0]["resource"]["item"]
    assert claim_response["request"]["identifier"]["value"] == "inq-src"


def test_inquiry_needs_the_same_provider_and_service(client: Client) -> None:
    bundle = pas_bundle(example_request("01-meets-aml-relapse-prevention"), "inq-src-2", NOW)
    assert _submit(client, bundle).status_code == 200
    other_provider = inquiry_bundle(bundle)
    for entry in other_provider["entry"]:
        for identifier in (
            entry["resource"].get("identifier", [])
            if isinstance(entry["resource"].get("identifier"), list)
            else []
        ):
            if identifier.get("system") == "http://hl7.org/fhir/sid/us-npi":
                identifier["value"] = "9999999991"
    assert "parameter" not in client.post("/fhir/Claim/$inquire", json=other_provider).json()
    other_service = inquiry_bundle(bundle)
    other_service["entry"][0]["resource"]["item"][0]["productOrService"] = {
        "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]
    }
    assert "parameter" not in client.post("/fhir/Claim/$inquire", json=other_service).json()
    any_service = inquiry_bundle(bundle)
    any_service["entry"][0]["resource"]["item"][0]["productOrService"] = {
        "coding": [
            {"system": "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes", "code": "not-applicable"}
        ]
    }
    assert len(client.post("/fhir/Claim/$inquire", json=any_service).json()["parameter"]) == 1
    later = inquiry_bundle(bundle)
    later["entry"][0]["resource"]["item"][0]["servicedPeriod"] = {"start": "2027-01-01", "end": "2027-02-01"}
    assert "parameter" not in client.post("/fhir/Claim/$inquire", json=later).json()


def test_inquiry_without_member_id_is_refused(client: Client) -> None:
    bundle = pas_bundle(example_request("01-meets-aml-relapse-prevention"), "inq-src-3", NOW)
    inquiry = inquiry_bundle(bundle)
    kinds = [e["resource"]["resourceType"] for e in inquiry["entry"]]
    inquiry["entry"][kinds.index("Coverage")]["resource"].pop("subscriberId")
    response = client.post("/fhir/Claim/$inquire", json=inquiry)
    assert response.status_code == 422
    where = f"Bundle.entry[{kinds.index('Patient')}].resource.identifier"
    assert response.json()["issue"][0]["expression"] == [where]


def test_a_subscriber_who_is_not_the_patient_is_not_the_record(client: Client) -> None:
    """PAS Bundles may carry the subscriber as a second Patient: the Claim's patient is the record's."""
    bundle = pas_bundle(example_request("23-current-smoker"), "subscriber-1", NOW)
    subscriber = {"resourceType": "Patient", "id": "subscriber-23", "name": [{"family": "Subscriber"}]}
    bundle["entry"].append(
        {"fullUrl": f"http://ehr.example.org/fhir/Patient/{subscriber['id']}", "resource": subscriber}
    )
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    coverage = bundle["entry"][kinds.index("Coverage")]["resource"]
    coverage["subscriber"] = {"reference": "Patient/subscriber-23"}
    response = _submit(client, bundle)
    assert response.status_code == 200, response.text
    assert action_code(response.json()["entry"][0]["resource"]["item"][0]) == "A3"


def test_concurrent_identical_submissions_store_one(app: Any) -> None:
    """Four copies of one submission at once: one row, one answer for all (the losers of the
    insert race read the winner's row)."""
    settings = app.state.settings
    store = ClaimStore(app.state.database.engine)
    core = DecisionCore(PolicyEngine(settings.cql_dir), FhirClient(0.2, 1), 4.0)
    service = ClaimService(core, store)
    bundle = pas_bundle(example_request("01-meets-aml-relapse-prevention"), "race-1", NOW)
    now = dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)

    async def race() -> list[Any]:
        return await asyncio.gather(
            *(
                service.submit(copy.deepcopy(bundle), now=now, questionnaire_url="q", deadline=Deadline(4))
                for _ in range(4)
            )
        )

    results = asyncio.run(race())
    assert all(r.body == results[0].body for r in results)
    assert len([s for s in store.by_member("MBR-pat-01") if s.claim_key.endswith("|race-1")]) == 1


def test_record_data_the_engine_cannot_read_is_named(client: Client) -> None:
    bundle = pas_bundle(example_request("23-current-smoker"), "broken-record-1", NOW)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    bundle["entry"][kinds.index("Condition")]["resource"]["code"] = "AML"  # a string, not a CodeableConcept
    response = _submit(client, bundle)
    assert response.status_code == 400, response.text
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Bundle.entry.resource"]
    assert "is not valid FHIR R4" in issue["diagnostics"]


def test_inquiry_by_patient_event_dates(client: Client) -> None:
    bundle = pas_bundle(example_request("01-meets-aml-relapse-prevention"), "event-src", NOW)
    assert _submit(client, bundle).status_code == 200  # no dates: the Claim's created date counts
    event = {
        "sequence": 99,
        "category": {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes",
                    "code": "patientEvent",
                }
            ]
        },
    }
    inside = inquiry_bundle(
        bundle, supportingInfo=[{**event, "timingPeriod": {"start": "2026-11-01", "end": "2026-11-30"}}]
    )
    assert len(client.post("/fhir/Claim/$inquire", json=inside).json()["parameter"]) == 1
    before = inquiry_bundle(bundle, supportingInfo=[{**event, "timingDate": "2026-10-01"}])
    assert "parameter" not in client.post("/fhir/Claim/$inquire", json=before).json()
