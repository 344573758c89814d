"""The CDS Hooks response of a CRD hook from the decision core's :class:`CaseOutcome`: a card
per in-scope order and a coverage-information system action (CRD ``ext-coverage-information``)
per order when the patient's Coverage is known. Shared by order-sign and order-dispatch (CRD
primary hooks); order-select builds its guidance card itself and passes ``primary=False``
(coverage information without documentation requests). CRD configuration options
(``coverage-info``, ``guideline``, ``max-cards``) apply; unknown options are ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cds import cards as card_builder
from cds import coverage_information as ci
from cds.decision_core import CaseOutcome, OrderOutcome, uuid5_text
from cds.discovery import CARD_TYPE

CardMaker = Callable[[OrderOutcome, str], dict[str, Any]]


@dataclass
class HookAnswer:
    body: dict[str, Any]
    orders: list[dict[str, Any]] = field(default_factory=list)  # for the audit log
    # For the audit log's ``criteria`` column: per decided order its outcome and each
    # criterion's status (non-secret: labels and statuses only, no evidence).
    criteria: list[dict[str, Any]] = field(default_factory=list)


def criteria_entry(o: OrderOutcome) -> dict[str, Any]:
    """An order's outcome and criterion statuses (``{"I.A": "unknown", ...}``; none for a
    technical outcome), as the audit log records them."""
    statuses = {c.label: c.status for c in o.decision.criteria} if o.decision is not None else {}
    return {"outcome": o.outcome, "criteria": statuses}


@dataclass(frozen=True)
class Answering:
    """What the response depends on besides the outcome."""

    hook_instance: str
    now: dt.datetime
    version: str
    configuration: dict[str, Any]
    questionnaire_url: str
    plan_name: str
    policy_url: str
    questionnaire_version: str = ""
    dtr_app_url: str = ""

    @property
    def questionnaire_canonical(self) -> str:
        """The questionnaire's version-specific canonical (``url|version``) when the version is known."""
        if self.questionnaire_version:
            return f"{self.questionnaire_url}|{self.questionnaire_version}"
        return self.questionnaire_url

    def ids(self, *parts: str) -> str:
        return uuid5_text("|".join((self.hook_instance, self.now.isoformat(), *parts)))


def primary_card(answering: Answering) -> CardMaker:
    """The order-sign card: the decision with every criterion, or the technical card."""

    def make(o: OrderOutcome, uuid: str) -> dict[str, Any]:
        if o.decision is not None:
            return card_builder.card(
                o.decision, uuid=uuid, plan_name=answering.plan_name, policy_url=answering.policy_url
            )
        assert o.technical is not None
        return card_builder.technical_card(
            o.order,
            uuid=uuid,
            plan_name=answering.plan_name,
            policy_url=answering.policy_url,
            why=o.technical.why,
            out_of_time=o.technical.out_of_time,
        )

    return make


def respond(
    outcome: CaseOutcome, answering: Answering, *, card: CardMaker | None = None, primary: bool = True
) -> HookAnswer:
    """Cards and system actions (both always present) and the audit entries."""
    config = answering.configuration
    make_card = card or primary_card(answering)
    want_cards = config.get(CARD_TYPE, True) is not False
    want_actions = config.get("coverage-info", True) is not False
    max_cards = config.get("max-cards")
    cards: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    for o in outcome.orders:
        entry: dict[str, Any] = {"order": o.ref, "outcome": o.outcome}
        if want_cards:
            made = make_card(o, answering.ids(o.key, "card"))
            if answering.dtr_app_url and o.outcome == "documentation-needed" and outcome.coverage is not None:
                made = card_builder.with_dtr_launch(
                    made,
                    answering.dtr_app_url,
                    order=o.ref,
                    coverage=outcome.coverage,
                    assertion_id=answering.ids(o.key, outcome.coverage),
                    questionnaire=answering.questionnaire_canonical,
                )
            cards.append(made)
        if want_actions and outcome.coverage is not None:
            assertion = answering.ids(o.key, outcome.coverage)
            actions.append(_action(o, outcome.coverage, assertion, answering, primary))
            entry["coverage_assertion_id"] = assertion
        audit.append(entry)
    if isinstance(max_cards, int) and not isinstance(max_cards, bool) and max_cards >= 0:
        cards = cards[:max_cards]
    decided = [criteria_entry(o) for o in outcome.orders]
    return HookAnswer({"cards": cards, "systemActions": actions}, audit, decided)


def _action(
    o: OrderOutcome, coverage: str, assertion: str, answering: Answering, primary: bool
) -> dict[str, Any]:
    reason: str | None
    if o.technical is not None:
        kind, reason = "technical", o.technical.text
        shown = "indeterminate"
    else:
        assert o.decision is not None
        kind, reason = o.outcome, o.decision.reason
        shown = o.outcome.replace("-", " ")
    extension = ci.coverage_extension(
        outcome=kind,
        version=answering.version,
        coverage_ref=coverage,
        date=answering.now.date().isoformat(),
        assertion_id=assertion,
        reason=reason,
        questionnaire_url=answering.questionnaire_canonical,
    )
    if not primary:
        extension = ci.without_documentation_requests(extension)
    return ci.system_action(o.order, extension, f"CP.MP.101 coverage information for {o.ref}: {shown}")
