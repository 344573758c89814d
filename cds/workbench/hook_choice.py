"""A case tried as one of the three CRD hooks: the request built from the case's order-sign
request the way each hook carries its orders, and answered by that hook's own service.

- ``order-sign`` (primary): the request as it is; the draft orders in ``context.draftOrders``.
- ``order-select`` (secondary): the same draft orders, every one of them in
  ``context.selections`` (just chosen); the answer is early guidance, with coverage information
  without documentation requests (CRD hook-19).
- ``order-dispatch`` (primary): ``context.dispatchedOrders`` names the orders by reference (a
  performer beside them) and their resources travel in the prefetch, under a key we do not
  advertise (``dispatched``); the answer is order-sign's.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from cds.decision_core import DecisionCore
from cds.hook_response import HookAnswer
from cds.hooks import parse_order_dispatch, parse_order_select, parse_order_sign
from cds.order_dispatch import OrderDispatchService
from cds.order_select import OrderSelectService
from cds.order_sign import OrderSignService

HOOKS = ("order-sign", "order-select", "order-dispatch")
DESCRIPTIONS = {
    "order-sign": "order-sign: the decision when the order is signed (cards, coverage information, "
    "documentation requests)",
    "order-select": "order-select: early guidance while the order is chosen (no documentation requests)",
    "order-dispatch": "order-dispatch: coverage information when the signed order is dispatched to a performer",
}
PERFORMER = "Practitioner/workbench-performer"
DISPATCHED_KEY = "dispatched"


def chosen(value: str | None) -> str:
    """The hook a query names; order-sign for none or an unknown one."""
    return value if value in HOOKS else "order-sign"


def _orders(sign: dict[str, Any]) -> list[dict[str, Any]]:
    context = sign.get("context")
    bundle = context.get("draftOrders") if isinstance(context, dict) else None
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    return [e["resource"] for e in entries or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]


def _signed(order: dict[str, Any]) -> dict[str, Any]:
    """A draft order as it is once signed and dispatched: ``active`` (other statuses kept)."""
    return {**order, "status": "active"} if order.get("status") == "draft" else order


def _references(sign: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(f"{o.get('resourceType')}/{o.get('id')}" for o in _orders(sign)))


def request_for(hook: str, sign: dict[str, Any]) -> dict[str, Any]:
    """The ``hook`` request of the case whose order-sign request is ``sign`` (same patient,
    record, hookInstance, FHIR server and extensions)."""
    request = copy.deepcopy(sign)
    request["hook"] = hook
    found = request.get("context")
    context: dict[str, Any] = found if isinstance(found, dict) else {}
    if hook == "order-select":
        request["context"] = {**context, "selections": _references(sign)}
    elif hook == "order-dispatch":
        request["context"] = {
            "patientId": context.get("patientId"),
            "dispatchedOrders": _references(sign),
            "performer": PERFORMER,
        }
        prefetch = dict(request.get("prefetch") or {})
        prefetch[DISPATCHED_KEY] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": _signed(o)} for o in _orders(sign)],
        }
        request["prefetch"] = prefetch
    return request


async def answer(
    hook: str,
    sign_service: OrderSignService,
    core: DecisionCore,
    request: dict[str, Any],
    now: dt.datetime,
    questionnaire_url: str,
) -> HookAnswer:
    """``request`` (already the hook's) through the hook's service, deciding with ``core``.
    Raises the services' typed errors (ServiceError)."""
    config = sign_service.config
    if hook == "order-select":
        select = OrderSelectService(core, config)
        return await select.handle(parse_order_select(request, hook), now=now, questionnaire_url=questionnaire_url)
    if hook == "order-dispatch":
        dispatch = OrderDispatchService(core, sign_service.fhir, config)
        return await dispatch.handle(
            parse_order_dispatch(request, hook), now=now, questionnaire_url=questionnaire_url
        )
    sign = OrderSignService(sign_service.engine, sign_service.fhir, config)
    sign.core = core
    return await sign.handle(parse_order_sign(request, hook), now=now, questionnaire_url=questionnaire_url)
