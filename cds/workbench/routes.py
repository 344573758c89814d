"""The workbench's routes: examples list, one example run through the service, recent activity.

A case runs through ``OrderSignService.handle`` exactly as the hook endpoint does; nothing here
decides anything. Activity shows only non-secret audit columns (no tokens, no resources).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from cds.db import Database
from cds.discovery import HOOK
from cds.hooks import parse_order_sign
from cds.order_sign import OrderSignService
from cds.workbench.html import card, page, table, text

ACTIVITY_COLUMNS = ["at", "endpoint", "patient_id", "orders", "status", "latency_ms"]


def _examples(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():  # an installed service without the repository's examples
        return {}
    return {p.name: p for p in sorted(folder.iterdir()) if (p / "request.json").is_file()}


def workbench_routes(
    service: OrderSignService,
    database: Database,
    examples_dir: Path,
    questionnaire_url: Callable[[Request], str],
    activity_dependencies: Sequence[Any] = (),
) -> APIRouter:
    """``activity_dependencies``: what guards the activity (audit) view, e.g. the SMART scope
    check when authentication is on."""
    router = APIRouter(include_in_schema=False)  # mounted at /workbench
    examples = _examples(examples_dir)

    @router.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        rows = []
        for name, folder in examples.items():
            case = json.loads((folder / "case.json").read_text()) if (folder / "case.json").is_file() else {}
            expected = ", ".join(f"{k}: {v}" for k, v in case.get("outcomes", {}).items())
            rows.append([f'<a href="/workbench/examples/{text(name)}">{text(name)}</a>', text(expected)])
        return HTMLResponse(page("Examples", table(["Example", "Expected outcomes"], rows)))

    @router.get("/examples/{name}", response_class=HTMLResponse)
    async def example(name: str, request: Request) -> HTMLResponse:
        folder = examples.get(name)
        if folder is None:
            raise HTTPException(404, "no such example")
        case: dict[str, Any] = (
            json.loads((folder / "case.json").read_text()) if (folder / "case.json").is_file() else {}
        )
        now = dt.datetime.fromisoformat(case["now"]) if "now" in case else dt.datetime.now(dt.UTC)
        parsed = parse_order_sign(json.loads((folder / "request.json").read_text()), HOOK)
        result = await service.handle(parsed, now=now, questionnaire_url=questionnaire_url(request))
        outcomes = table(
            ["Order", "Outcome"],
            [[text(o.get("order")), text(o.get("outcome"))] for o in result.orders],
        )
        cards = "".join(card(c) for c in result.body.get("cards", []) if isinstance(c, dict))
        return HTMLResponse(page(f"Example {name}", outcomes + (cards or "<p>No cards.</p>")))

    @router.get("/activity", response_class=HTMLResponse, dependencies=list(activity_dependencies))
    async def activity() -> HTMLResponse:
        rows = database.audit_rows(limit=100)
        body = table(ACTIVITY_COLUMNS, [[text(r.get(c)) for c in ACTIVITY_COLUMNS] for r in rows])
        return HTMLResponse(page("Activity", body))

    return router
