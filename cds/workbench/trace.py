"""The decision trace of a case: per order, the outcome and every criterion of the policy
(I, I.A, I.B, I.C.1-4, II.A-D) with its status, reason and evidence resources (each opening to
its JSON), each criterion linked to the CQL defines that decide it."""

from __future__ import annotations

from cds.decision_core import CaseOutcome, OrderOutcome
from cds.workbench.html import resource_details, slug, status_badge, text
from cds.workbench.policy_view import PolicyView


def _criteria(o: OrderOutcome, policy: PolicyView) -> str:
    assert o.decision is not None
    rows = []
    for c in o.decision.criteria:
        evidence = "".join(resource_details(r) for r in c.evidence) or '<span class="none">none on record</span>'
        rows.append(
            f'<tr data-criterion="{text(c.label)}" data-status="{text(c.status)}">'
            f'<th scope="row" id="{slug(o.ref)}-{slug(c.label)}">{text(c.label)}</th>'
            f"<td>{text(c.title)}</td><td>{status_badge(c.status)}</td><td>{text(c.reason)}</td>"
            f"<td>{evidence}</td><td>{policy.criterion_links(c.label)}</td></tr>"
        )
    head = "".join(
        f'<th scope="col">{h}</th>' for h in ("Criterion", "Title", "Status", "Reason", "Evidence", "CQL")
    )
    return (
        f'<table class="trace"><caption>Decision trace of {text(o.ref)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _summary(o: OrderOutcome) -> str:
    assert o.decision is not None
    d = o.decision
    items = [f"<dt>Reason</dt><dd>{text(d.reason)}</dd>"] if d.reason else []
    if d.failing:
        items.append(f"<dt>Failing criteria</dt><dd>{text(', '.join(d.failing))}</dd>")
    if d.unknown:
        items.append(f"<dt>Unknown criteria</dt><dd>{text(', '.join(d.unknown))}</dd>")
    if d.missing_facts:
        items.append(f"<dt>Missing facts</dt><dd>{text(', '.join(d.missing_facts))}</dd>")
    return f"<dl>{''.join(items)}</dl>" if items else ""


def order_trace(o: OrderOutcome, policy: PolicyView) -> str:
    head = (
        f'<h3 id="trace-{slug(o.ref)}">{text(o.ref)}: '
        f'<span class="outcome outcome-{slug(o.outcome)}" data-outcome="{text(o.outcome)}">{text(o.outcome)}</span></h3>'
    )
    if o.technical is not None:
        return f'<section class="order">{head}<p>{text(o.technical.text)}</p></section>'
    return f'<section class="order">{head}{_summary(o)}{_criteria(o, policy)}</section>'


def trace(outcome: CaseOutcome | None, policy: PolicyView) -> str:
    if outcome is None:
        return "<p>No decision was made.</p>"
    if not outcome.orders:
        return "<p>No draft order is in scope of CP.MP.101: the service answers with no card.</p>"
    coverage = f"<p>Coverage: <code>{text(outcome.coverage)}</code></p>" if outcome.coverage else (
        "<p>No active Coverage of the patient is on record: no coverage information.</p>"
    )
    return coverage + "".join(order_trace(o, policy) for o in outcome.orders)
