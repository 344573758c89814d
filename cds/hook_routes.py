"""HTTP: the CDS Hooks door — discovery, the order-sign, order-dispatch and order-select
services, and feedback on their cards. Every hook call and feedback call leaves an audit row."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from cds.discovery import (
    DISPATCH_SERVICE_ID,
    HOOK,
    SELECT_SERVICE_ID,
    SERVICE_ID,
    SERVICES,
    discovery_document,
)
from cds.hook_response import HookAnswer
from cds.hooks import HookRequest, parse_feedback, parse_order_dispatch, parse_order_select, parse_order_sign
from cds.http import Handler, Http, _json
from cds.json_rules import cds_response, prune
from cds.limits import Deadline, check_counts
from cds.order_dispatch import OrderDispatchService
from cds.order_select import OrderSelectService
from cds.order_sign import OrderSignService
from cds.questionnaire import canonical

SERVICE_PATH = f"/cds-services/{SERVICE_ID}"


def register_hook_routes(
    app: FastAPI,
    http: Http,
    service: OrderSignService,
    dispatch_service: OrderDispatchService,
    select_service: OrderSelectService,
) -> None:
    """Discovery and the three hook services on ``app``."""
    limits = http.limits

    @app.get("/cds-services")
    async def discovery(request: Request) -> Response:
        async def run() -> Response:
            await http.authenticate(request, ["/cds-services"])
            return _json(prune(discovery_document(auth_off=not http.auth_required)))

        return await http.guarded(run)

    def hook_endpoint(
        service_id: str,
        hook: str,
        parse: Callable[[dict[str, Any], str], HookRequest],
        answer: Callable[[Any, dt.datetime, str, Deadline], Awaitable[HookAnswer]],
        orders: Callable[[Any], int],
    ) -> Handler:
        path = f"/cds-services/{service_id}"

        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            deadline = Deadline(limits.time_budget_seconds)
            audit: dict[str, Any] = {"endpoint": hook, "service": service_id}

            async def run() -> Response:
                iss = await http.authenticate(request, [path])
                audit["client_iss"] = iss
                body = await http.body_of(request, deadline)
                audit["hook_instance"] = (
                    str(body.get("hookInstance"))[:200] if body.get("hookInstance") else None
                )
                parsed = parse(body, hook)
                audit["patient_id"] = parsed.patient_id
                check_counts(orders(parsed), limits)
                result = await answer(parsed, http.clock(), canonical(http.base_url(request)), deadline)
                audit["orders"] = result.orders
                audit["criteria"] = result.criteria
                return _json(cds_response(result.body))

            response = await http.guarded(run)
            return await http.audit(audit, response, started)

        return endpoint

    order_sign = hook_endpoint(
        SERVICE_ID,
        HOOK,
        parse_order_sign,
        lambda r, now, q, d: service.handle(r, now=now, questionnaire_url=q, deadline=d),
        lambda r: len(r.orders),
    )
    order_dispatch = hook_endpoint(
        DISPATCH_SERVICE_ID,
        "order-dispatch",
        parse_order_dispatch,
        lambda r, now, q, d: dispatch_service.handle(r, now=now, questionnaire_url=q, deadline=d),
        lambda r: len(r.context.references),
    )
    order_select = hook_endpoint(
        SELECT_SERVICE_ID,
        "order-select",
        parse_order_select,
        lambda r, now, q, d: select_service.handle(r, now=now, questionnaire_url=q, deadline=d),
        lambda r: len(r.orders),
    )

    app.add_route(SERVICE_PATH, order_sign, methods=["POST"])
    app.add_route(f"/cds-services/{DISPATCH_SERVICE_ID}", order_dispatch, methods=["POST"])
    app.add_route(f"/cds-services/{SELECT_SERVICE_ID}", order_select, methods=["POST"])


def register_feedback_routes(app: FastAPI, http: Http) -> None:
    """``POST /cds-services/{id}/feedback`` for every hook service: the feedback is stored."""

    def feedback_endpoint(service_id: str) -> Handler:
        path = f"/cds-services/{service_id}"

        async def feedback(request: Request) -> Response:
            started = time.perf_counter()
            audit: dict[str, Any] = {"endpoint": "feedback", "service": service_id}

            async def run() -> Response:
                audit["client_iss"] = await http.authenticate(request, [f"{path}/feedback", path])
                parsed = parse_feedback(await http.body_of(request, Deadline(http.limits.time_budget_seconds)))
                items = [i.model_dump(exclude_none=True) for i in parsed.feedback]
                await asyncio.to_thread(http.database.record_feedback, service_id, items)
                return Response(status_code=200)

            response = await http.guarded(run)
            return await http.audit(audit, response, started)

        return feedback

    for service_id in SERVICES.values():
        app.add_route(f"/cds-services/{service_id}/feedback", feedback_endpoint(service_id), methods=["POST"])
