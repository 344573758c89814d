"""The order-sign service: an adapter of the CDS Hooks order-sign request to the decision core
(``cds.decision_core``) and of its outcome to the CDS Hooks response (``cds.hook_response``).

The request's draft orders, prefetch (what matches our templates; the rest is to read from
``fhirServer`` with the access token given) and version/configuration become a
:class:`~cds.decision_core.CaseInput`; the outcome becomes a card and a CRD
coverage-information system action per in-scope order. Knows no HTTP: errors are typed
(``cds.errors``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cds.decision_core import CaseInput, DecisionCore, uuid5_text, validate_order
from cds.discovery import PREFETCH
from cds.evaluation import PolicyEngine
from cds.fhir_client import FhirClient
from cds.hook_response import Answering, HookAnswer, respond
from cds.hooks import HookRequest, OrderSignRequest
from cds.limits import Deadline
from cds.prefetch import PrefetchState, check_shapes, read_prefetch

# Kept importable from here (the benchmarks' parse-only endpoint, older callers).
__all__ = ["OrderSignResult", "OrderSignService", "ServiceConfig", "uuid5_text", "validate_order"]

OrderSignResult = HookAnswer


@dataclass(frozen=True)
class ServiceConfig:
    plan_name: str
    policy_url: str
    time_budget_seconds: float
    # The questionnaire's version (coverage information names it version-specific) and the DTR
    # app a documentation-needed card launches ("" for none).
    questionnaire_version: str = ""
    dtr_app_url: str = ""


def answering(
    request: HookRequest, config: ServiceConfig, now: dt.datetime, questionnaire_url: str
) -> Answering:
    return Answering(
        hook_instance=request.hookInstance,
        now=now,
        version=request.requested_version,
        configuration=request.configuration,
        questionnaire_url=questionnaire_url,
        plan_name=config.plan_name,
        policy_url=config.policy_url,
        questionnaire_version=config.questionnaire_version,
        dtr_app_url=config.dtr_app_url,
    )


def hook_case(
    request: HookRequest,
    orders: Sequence[dict[str, Any]],
    state: PrefetchState,
    *,
    now: dt.datetime,
    questionnaire_url: str,
    deadline: Deadline,
    orders_at: str = "context.draftOrders",
    targets: frozenset[str] | None = None,
    incomplete_ok: bool = False,
) -> CaseInput:
    """The decision core's input for a hook request: its orders, the prefetched record and
    what is missing from it, the FHIR server and token (validated orders: see ``handle``)."""
    return CaseInput(
        orders=orders,
        patient_id=request.patient_id,
        resources=state.resources,
        missing=state.missing,
        fhir_server=request.fhirServer,
        fhir_token=request.access_token,
        now=now,
        questionnaire_url=questionnaire_url,
        deadline=deadline,
        orders_validated=True,
        orders_at=orders_at,
        label=request.hookInstance,
        targets=targets,
        incomplete_ok=incomplete_ok,
    )


class OrderSignService:
    def __init__(self, engine: PolicyEngine, fhir: FhirClient, config: ServiceConfig) -> None:
        self.engine = engine
        self.fhir = fhir
        self.config = config
        self.core = DecisionCore(engine, fhir, config.time_budget_seconds)

    async def handle(
        self,
        request: OrderSignRequest,
        *,
        now: dt.datetime,
        questionnaire_url: str,
        deadline: Deadline | None = None,
    ) -> HookAnswer:
        """The answer within ``deadline`` (default: the configured budget from now). Time that
        runs out while reading the record or evaluating gives the technical answer."""
        deadline = deadline or Deadline(self.config.time_budget_seconds)
        for order in request.orders:
            if order.get("resourceType") == "ServiceRequest":
                validate_order(order)
        check_shapes(request, PREFETCH)
        state = read_prefetch(request, PREFETCH)
        case = hook_case(
            request, request.orders, state, now=now, questionnaire_url=questionnaire_url, deadline=deadline
        )
        outcome = await self.core.decide(case)
        return respond(outcome, answering(request, self.config, now, questionnaire_url))
