"""The order-dispatch service (CRD primary hook): coverage information for the dispatched
orders, as order-sign gives it, from the decision core.

The context names the orders by reference (``dispatchedOrders``; the Inferno CRD kit sends a
single ``order``); their resources are taken from the prefetch (under any key) or read from
``fhirServer``. Every dispatched order is "Draft Orders" to the policy (as the draft orders are
at order-sign), so a dispatch of an order-sign's orders answers as the order-sign did.
``performer`` is read but not used: the policy does not depend on who performs the infusion.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cds.decision_core import DecisionCore, validate_order
from cds.discovery import PREFETCH
from cds.errors import DataUnavailable, FhirServerError
from cds.fhir_client import FhirClient
from cds.hook_response import HookAnswer, respond
from cds.hooks import OrderDispatchRequest
from cds.limits import Deadline
from cds.order_sign import ServiceConfig, answering, hook_case
from cds.prefetch import PrefetchState, check_shapes, read_prefetch, resources_of

WHERE = "context.dispatchedOrders"


class OrderDispatchService:
    def __init__(self, core: DecisionCore, fhir: FhirClient, config: ServiceConfig) -> None:
        self.core = core
        self.fhir = fhir
        self.config = config

    async def handle(
        self,
        request: OrderDispatchRequest,
        *,
        now: dt.datetime,
        questionnaire_url: str,
        deadline: Deadline | None = None,
    ) -> HookAnswer:
        deadline = deadline or Deadline(self.config.time_budget_seconds)
        check_shapes(request, PREFETCH)
        state = read_prefetch(request, PREFETCH)
        orders = await self._orders(request, state, deadline)
        for order in orders:
            if order.get("resourceType") == "ServiceRequest":
                validate_order(order, WHERE)
        refs = set(request.context.references)
        record = [r for r in state.resources if _ref(r) not in refs]  # the orders are not the record
        state = PrefetchState(record, state.missing, state.satisfied)
        case = hook_case(
            request,
            orders,
            state,
            now=now,
            questionnaire_url=questionnaire_url,
            deadline=deadline,
            orders_at=WHERE,
        )
        outcome = await self.core.decide(case)
        return respond(outcome, answering(request, self.config, now, questionnaire_url))

    async def _orders(
        self, request: OrderDispatchRequest, state: PrefetchState, deadline: Deadline
    ) -> list[dict[str, Any]]:
        """The dispatched orders' resources, in the order named: from the prefetch, else read from
        the FHIR server. An order that cannot be had is :class:`DataUnavailable`."""
        sent = {_ref(r): r for value in (request.prefetch or {}).values() for r in resources_of(value)}
        found = {ref: sent[ref] for ref in request.context.references if ref in sent}
        missing = {ref: ref for ref in request.context.references if ref not in found}
        if missing and not request.fhirServer:
            raise DataUnavailable(
                f"the dispatched order {', '.join(missing)} is not in the prefetch and no fhirServer was given",
                WHERE,
            )
        if missing:
            assert request.fhirServer is not None
            try:
                fetched = await self.fhir.search_all(
                    request.fhirServer, missing, request.access_token, deadline.remaining()
                )
            except FhirServerError as exc:
                raise DataUnavailable(
                    f"the dispatched order {', '.join(missing)} could not be read: {exc.message}", WHERE
                ) from None
            for ref, items in fetched.items():
                match = next((r for r in items if _ref(r) == ref), None)
                if match is None:
                    raise DataUnavailable(f"the FHIR server has no dispatched order {ref}", WHERE)
                found[ref] = match
        return [found[ref] for ref in request.context.references]


def _ref(resource: dict[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"
