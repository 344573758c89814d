"""The order-select service (CRD secondary hook): early guidance on a DLI order being chosen.

The decision core decides the selected orders (``selections``; the other draft orders are
"Draft Orders" to the policy) on what is known so far: the prefetch, the FHIR server when one
is given, and — unlike the primary hooks — the record in hand alone when data is missing and no
FHIR server is given (never a 4xx for incomplete data). The draft orders are not validated as
complete FHIR resources: an order still being written may lack required elements.

The answer: a guidance card per selected DLI order (the outcome so far and what will be needed
at signing), and coverage information without documentation requests (CRD hook-19: no
``doc-needed``, hence no ``doc-purpose`` or ``questionnaire``). ``systemActions`` is present
as on the other hooks (the kit allows omitting it here).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cds import cards as card_builder
from cds.decision_core import DecisionCore, OrderOutcome
from cds.discovery import PREFETCH
from cds.hook_response import Answering, CardMaker, HookAnswer, primary_card, respond
from cds.hooks import OrderSelectRequest
from cds.limits import Deadline
from cds.order_sign import ServiceConfig, answering, hook_case
from cds.prefetch import check_shapes, read_prefetch

SO_FAR = {
    "meets-criteria": "{order}: CP.MP.101 criteria met so far; prior authorization will be required",
    "not-medically-necessary": "{order}: not medically necessary under CP.MP.101 so far ({labels})",
    "documentation-needed": "{order}: CP.MP.101 documentation will be needed at signing",
}
OUTCOME_TEXT = {
    "meets-criteria": "criteria met",
    "not-medically-necessary": "not medically necessary",
    "documentation-needed": "not yet decidable from the record",
}


class OrderSelectService:
    def __init__(self, core: DecisionCore, config: ServiceConfig) -> None:
        self.core = core
        self.config = config

    async def handle(
        self,
        request: OrderSelectRequest,
        *,
        now: dt.datetime,
        questionnaire_url: str,
        deadline: Deadline | None = None,
    ) -> HookAnswer:
        deadline = deadline or Deadline(self.config.time_budget_seconds)
        check_shapes(request, PREFETCH)
        state = read_prefetch(request, PREFETCH)
        case = hook_case(
            request,
            request.orders,
            state,
            now=now,
            questionnaire_url=questionnaire_url,
            deadline=deadline,
            targets=frozenset(request.context.selections),
            incomplete_ok=True,
        )
        outcome = await self.core.decide(case)
        given = answering(request, self.config, now, questionnaire_url)
        return respond(outcome, given, card=guidance_card(given), primary=False)


def guidance_card(answering: Answering) -> CardMaker:
    """The order-select card: the outcome so far, what will be needed, the criteria."""
    technical = primary_card(answering)

    def make(o: OrderOutcome, uuid: str) -> dict[str, Any]:
        if o.decision is None:
            return technical(o, uuid)
        d = o.decision
        base = card_builder.card(d, uuid=uuid, plan_name=answering.plan_name, policy_url=answering.policy_url)
        outcome = o.outcome
        labels = ", ".join(d.failing[:3]) or "criteria"
        summary = SO_FAR[outcome].format(order=_name(d.order), labels=labels)
        if len(summary) >= 140:
            summary = SO_FAR[outcome].format(order="DLI order", labels=labels)[:139]
        return {
            **base,
            "summary": summary,
            "indicator": "warning" if outcome == "not-medically-necessary" else "info",
            "detail": f"{_guidance(o)}\n\n{base['detail']}",
        }

    return make


def _guidance(o: OrderOutcome) -> str:
    assert o.decision is not None
    d = o.decision
    lines = [f"**Outcome so far:** {OUTCOME_TEXT[o.outcome]} (early guidance: the order is not signed yet)."]
    if o.outcome == "not-medically-necessary":
        lines.append(f"**Why:** {d.reason or ', '.join(d.failing)}.")
        lines.append(
            "**What will be needed:** a prior authorization request is expected to be denied as it stands."
        )
    else:
        needed = ["a prior authorization for the donor lymphocyte infusion (CP.MP.101)"]
        unknown = [c for c in d.criteria if c.status == "unknown"]
        if unknown:
            listed = "; ".join(f"{c.label} {c.title}" for c in unknown)
            needed.append(f"documentation of {listed} (the DLI questionnaire, at signing)")
        lines.append("**What will be needed:** " + ", and ".join(needed) + ".")
    return "\n\n".join(lines)


def _name(order: dict[str, Any]) -> str:
    code = order.get("code") if isinstance(order.get("code"), dict) else {}
    assert isinstance(code, dict)
    if isinstance(code.get("text"), str) and code["text"]:
        return str(code["text"])
    for coding in code.get("coding") or []:
        if isinstance(coding, dict) and isinstance(coding.get("display"), str) and coding["display"]:
            return str(coding["display"])
    return "DLI order"
