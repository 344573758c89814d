"""The decision core on its own (``cds.decision_core``), as the PAS adapter uses it: answers
(QuestionnaireResponses) join the record, ``targets`` limits what is decided while every order
stays a draft order to the policy, ``incomplete_ok`` decides on what is in hand, and a missing
record with nowhere to read it is :class:`DataUnavailable` otherwise."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from cds.decision_core import CaseInput, CaseOutcome, DecisionCore
from cds.errors import DataUnavailable
from cds.evaluation import PolicyEngine
from cds.fhir_client import FhirClient
from cds.limits import Deadline
from cds.prefetch import resources_of
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def core() -> DecisionCore:
    return DecisionCore(PolicyEngine(ROOT / "cql"), FhirClient(1.0, 2), 4.0)


def _case(name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    request = json.loads((ROOT / "fhir-examples" / name / "request.json").read_text())
    orders = [e["resource"] for e in request["context"]["draftOrders"]["entry"]]
    record = [r for value in request["prefetch"].values() for r in resources_of(value)]
    return orders, record


def _decide(core: DecisionCore, **fields: Any) -> CaseOutcome:
    values: dict[str, Any] = {
        "patient_id": "pat-1",
        "now": NOW,
        "questionnaire_url": "http://q",
        "deadline": Deadline(10.0),
        **fields,
    }
    values["patient_id"] = next(
        (r["id"] for r in values["resources"] if r["resourceType"] == "Patient"), values["patient_id"]
    )
    return asyncio.run(core.decide(CaseInput(**values)))


def test_answers_join_the_record(core: DecisionCore) -> None:
    orders, record = _case("33-questionnaire-closes-hsct-loop")
    answers = [r for r in record if r["resourceType"] == "QuestionnaireResponse"]
    rest = [r for r in record if r["resourceType"] != "QuestionnaireResponse"]
    assert answers
    without = _decide(core, orders=orders, resources=rest)
    with_answers = _decide(core, orders=orders, resources=rest, answers=answers)
    assert [o.outcome for o in without.orders] == ["documentation-needed"]
    assert [o.outcome for o in with_answers.orders] == ["meets-criteria"]
    assert with_answers.coverage is not None and with_answers.coverage.startswith("Coverage/")
    assert all(a in with_answers.record for a in answers)


def test_targets_limit_what_is_decided_not_the_draft_orders(core: DecisionCore) -> None:
    orders, record = _case("36-listed-code-with-dli-in-bundle")
    both = _decide(core, orders=orders, resources=record)
    only = _decide(core, orders=orders, resources=record, targets=frozenset({"ServiceRequest/conc-1"}))
    assert [o.ref for o in both.orders] == ["ServiceRequest/dli-1", "ServiceRequest/conc-1"]
    # conc-1 (a listed non-specific code) is in scope because dli-1 is among the draft orders.
    assert [(o.ref, o.outcome) for o in only.orders] == [("ServiceRequest/conc-1", "meets-criteria")]


def test_missing_data_without_a_fhir_server(core: DecisionCore) -> None:
    orders, record = _case("01-meets-aml-relapse-prevention")
    missing = {"procedures": "Procedure?patient=pat-1"}
    with pytest.raises(DataUnavailable):
        _decide(core, orders=orders, resources=record, missing=missing)
    partial = _decide(core, orders=orders, resources=record, missing=missing, incomplete_ok=True)
    assert [o.outcome for o in partial.orders] == ["meets-criteria"]


def test_nothing_in_scope_is_no_order(core: DecisionCore) -> None:
    orders, record = _case("37-leukocyte-transfusion-out-of-scope")
    outcome = _decide(core, orders=orders, resources=record)
    assert outcome.orders == [] and outcome.coverage is None
