"""Scope decides what the record matters to. With the whole record in the prefetch each order is
evaluated once ("In Scope" first); the answers are those of the scope-first path (the one used
when data must be fetched): out-of-scope orders get nothing, even when the record cannot be
read or time runs out, and an in-scope order beside them is answered alone."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cds.errors import InvalidRequest
from cds.evaluation import PolicyEngine
from cds.fhir_client import FhirClient
from cds.hooks import parse_order_sign
from cds.limits import Deadline
from cds.order_sign import OrderSignResult, OrderSignService, ServiceConfig
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]
REQUEST = json.loads(
    (ROOT / "fhir-examples" / "01-meets-aml-relapse-prevention" / "request.json").read_text()
)
DLI = REQUEST["context"]["draftOrders"]["entry"][0]["resource"]
ECHO = {
    **copy.deepcopy(DLI),
    "id": "echo-1",
    "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "93306"}], "text": "Echo"},
}


@pytest.fixture(scope="module")
def service() -> OrderSignService:
    return OrderSignService(
        PolicyEngine(ROOT / "cql"), FhirClient(1.0, 2), ServiceConfig("Plan", "https://policy", 4.0)
    )


def _request(orders: list[dict[str, Any]], *, second_patient: bool = False) -> dict[str, Any]:
    raw = copy.deepcopy(REQUEST)
    raw["context"]["draftOrders"]["entry"] = [{"resource": copy.deepcopy(o)} for o in orders]
    if second_patient:  # a record with two patients: the engine refuses to read it
        other = {**raw["prefetch"]["patient"], "id": "someone-else"}
        raw["prefetch"]["conditions"].setdefault("entry", []).append({"resource": other})
    return raw


def _handle(
    service: OrderSignService, raw: dict[str, Any], deadline: Deadline | None = None
) -> OrderSignResult:
    request = parse_order_sign(raw, "order-sign")
    return asyncio.run(service.handle(request, now=NOW, questionnaire_url="http://q", deadline=deadline))


def test_only_the_order_in_scope_is_answered(service: OrderSignService) -> None:
    result = _handle(service, _request([ECHO, DLI]))
    assert [o["order"] for o in result.orders] == ["ServiceRequest/dli-1"]
    assert len(result.body["cards"]) == 1 and len(result.body["systemActions"]) == 1
    assert result.body["systemActions"][0]["resource"]["id"] == "dli-1"


def test_an_unreadable_record_does_not_matter_to_orders_out_of_scope(service: OrderSignService) -> None:
    raw = _request([ECHO], second_patient=True)
    assert _handle(service, raw).body == {"cards": [], "systemActions": []}


def test_an_unreadable_record_is_a_bad_request_for_an_order_in_scope(service: OrderSignService) -> None:
    with pytest.raises(InvalidRequest) as err:
        _handle(service, _request([ECHO, DLI], second_patient=True))
    assert err.value.where == "prefetch"
    assert "2 Patient resources" in err.value.message


def test_out_of_time_answers_the_orders_in_scope_alone(service: OrderSignService) -> None:
    result = _handle(service, _request([ECHO, DLI]), deadline=Deadline(0.0, start=0.0))
    assert result.orders == [
        {
            "order": "ServiceRequest/dli-1",
            "outcome": "indeterminate",
            "coverage_assertion_id": result.orders[0]["coverage_assertion_id"],
        }
    ]
    assert "ran out of time" in result.body["cards"][0]["summary"]


def test_orders_out_of_scope_are_not_answered_when_time_has_run_out(service: OrderSignService) -> None:
    assert _handle(service, _request([ECHO]), deadline=Deadline(0.0, start=0.0)).body == {
        "cards": [],
        "systemActions": [],
    }


def test_a_malformed_order_is_named_in_the_draft_orders(service: OrderSignService) -> None:
    bad = {**copy.deepcopy(DLI), "doNotPerform": "yes"}  # a string where a boolean belongs
    with pytest.raises(InvalidRequest) as err:
        _handle(service, _request([bad]))
    assert err.value.where.startswith("context.draftOrders")


def _ids(result: OrderSignResult) -> tuple[list[str], list[str]]:
    cards = [c["uuid"] for c in result.body["cards"]]
    assertions = [o["coverage_assertion_id"] for o in result.orders]
    return cards, assertions


@pytest.mark.parametrize("timed_out", [False, True], ids=["decided", "out-of-time"])
def test_orders_sharing_an_id_get_their_own_card_and_assertion_ids(
    service: OrderSignService, timed_out: bool
) -> None:
    """Two draft orders with one id (or none) are answered each with its own ids; the first
    keeps the ids it has when it is alone."""
    deadline = Deadline(0.0, start=0.0) if timed_out else None
    alone = _ids(_handle(service, _request([DLI]), deadline))
    twice = _ids(_handle(service, _request([DLI, DLI, DLI]), deadline))
    for ids, first in zip(twice, alone, strict=True):
        assert len(ids) == 3 and len(set(ids)) == 3
        assert ids[0] == first[0]
    no_id = {k: v for k, v in DLI.items() if k != "id"}
    cards, assertions = _ids(_handle(service, _request([no_id, no_id]), deadline))
    assert len(set(cards)) == 2 and len(set(assertions)) == 2
