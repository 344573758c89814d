"""The whole request runs within its time budget: a body that trickles in past it is a 408
with an OperationOutcome; an evaluation that runs out of time is abandoned cooperatively by the
engine and answered ``indeterminate``/technical with a card saying the check ran out of time."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cds.app import create_app
from cds.cql.errors import EvaluationTimeout
from cds.evaluation import PolicyEngine
from cds.fhir_client import FhirClient
from cds.hooks import parse_order_sign
from cds.limits import Deadline
from cds.order_sign import OrderSignService, ServiceConfig
from tests.conftest import NOW, make_settings

ROOT = Path(__file__).resolve().parents[2]
REQUEST = json.loads(
    (ROOT / "fhir-examples" / "01-meets-aml-relapse-prevention" / "request.json").read_text()
)
SERVICE = "/cds-services/dli-order-sign"


def test_a_body_that_trickles_in_past_the_budget_is_a_408(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, time_budget_seconds=0.3), clock=lambda: NOW)
    body = json.dumps(REQUEST).encode()

    async def trickle() -> AsyncIterator[bytes]:
        yield body[:100]
        await asyncio.sleep(1.0)
        yield body[100:]

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.post(SERVICE, content=trickle(), headers={"Content-Type": "application/json"})

    response = asyncio.run(run())
    assert response.status_code == 408  # the budget, not the trickle, ended it (no wall-clock assertion)
    issue = response.json()["issue"][0]
    assert response.json()["resourceType"] == "OperationOutcome"
    assert issue["code"] == "timeout" and "time budget" in issue["diagnostics"]
    app.state.database.close()


@pytest.fixture(scope="module")
def service() -> OrderSignService:
    engine = PolicyEngine(ROOT / "cql")
    return OrderSignService(engine, FhirClient(1.0, 2), ServiceConfig("Plan", "https://policy", 4.0))


def _coverage(body: dict[str, Any]) -> dict[str, Any]:
    ext = body["systemActions"][0]["resource"]["extension"][-1]["extension"]
    return {e["url"]: e for e in ext}


def test_an_evaluation_out_of_time_answers_technical(service: OrderSignService) -> None:
    raw = copy.deepcopy(REQUEST)
    raw["extension"] = {"davinci-crd.requestedVersion": "2.2"}
    request = parse_order_sign(raw, "order-sign")
    result = asyncio.run(
        service.handle(request, now=NOW, questionnaire_url="http://q", deadline=Deadline(0.0, start=0.0))
    )
    body = result.body
    assert [o["outcome"] for o in result.orders] == ["indeterminate"]
    assert "ran out of time" in body["cards"][0]["summary"]
    cov = _coverage(body)
    assert cov["covered"]["valueCode"] == "indeterminate"
    assert cov["reason"]["valueCodeableConcept"]["coding"][0]["code"] == "technical"
    assert "time budget" in cov["reason"]["valueCodeableConcept"]["text"]


def test_the_same_request_within_its_budget_is_answered(service: OrderSignService) -> None:
    request = parse_order_sign(copy.deepcopy(REQUEST), "order-sign")
    result = asyncio.run(
        service.handle(request, now=NOW, questionnaire_url="http://q", deadline=Deadline(10.0))
    )
    assert [o["outcome"] for o in result.orders] == ["meets-criteria"]


def test_the_engine_stops_at_a_passed_deadline(service: OrderSignService) -> None:
    order = REQUEST["context"]["draftOrders"]["entry"][0]["resource"]
    with pytest.raises(EvaluationTimeout):
        service.engine.evaluate(order, [order], [], NOW, "http://q", deadline=time.monotonic() - 1)


class _CoverageServer(FhirClient):
    """A FHIR server that answers every query with the patient's Coverage, at once."""

    def __init__(self, coverage: dict[str, Any]) -> None:
        super().__init__(1.0, 2)
        self.coverage = coverage

    async def search_all(
        self, base: str, queries: dict[str, str], token: str | None, budget: float
    ) -> dict[str, list[dict[str, Any]]]:
        return {key: [self.coverage] for key in queries}


def test_out_of_time_names_the_coverage_read_from_the_fhir_server(service: OrderSignService) -> None:
    """When the Coverage came from the FHIR server (not in prefetch) and the evaluation then ran
    out of time, the technical answer still carries the coverage information for it."""
    raw = copy.deepcopy(REQUEST)
    bundle = raw["prefetch"].pop("coverage")
    coverage = bundle if bundle.get("resourceType") == "Coverage" else bundle["entry"][0]["resource"]
    raw["fhirServer"] = "http://ehr.example/fhir"
    request = parse_order_sign(raw, "order-sign")
    fetching = OrderSignService(service.engine, _CoverageServer(coverage), service.config)
    result = asyncio.run(
        fetching.handle(request, now=NOW, questionnaire_url="http://q", deadline=Deadline(0.0, start=0.0))
    )
    assert [o["outcome"] for o in result.orders] == ["indeterminate"]
    ext = result.body["systemActions"][0]["resource"]["extension"][-1]["extension"]
    assert {"url": "coverage", "valueReference": {"reference": f"Coverage/{coverage['id']}"}} in ext
