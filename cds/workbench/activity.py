"""Activity: what the service answered, from the audit log (read through ``Database.audit_rows``
only): outcomes over time, the criteria that fail or are unknown most often, latency
percentiles, error rates, and a table of calls, each linking to its stored response shown as
cards and coverage information. Only non-secret columns are shown: never tokens, JWTs, the
client's issuer or whole resources.

Outcomes come from the ``orders`` column and criterion statuses from the ``criteria`` column
(structured, written when the call is audited: ``cds.hook_response.criteria_entry``); nothing is
read back out of card text. Hook calls answered before the ``criteria`` column existed are
counted as "not recorded", never guessed."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from cds.workbench import svg
from cds.workbench.html import table, text

# The charts read at most this many calls (the newest matching the filters): the page stays
# within its time bound on a long log; the page says when the limit was reached.
MAX_ROWS = 500
OUTCOMES = ("meets-criteria", "not-medically-necessary", "documentation-needed", "indeterminate")
HOOK_ENDPOINTS = ("order-sign", "order-select", "order-dispatch")  # the calls that decide criteria
_SHOWN = {"not-met": "not met", "unknown": "unknown"}


@dataclass(frozen=True)
class Filters:
    since: dt.date | None = None
    until: dt.date | None = None
    outcome: str = ""
    patient_id: str = ""
    hook_instance: str = ""

    @classmethod
    def parse(cls, query: dict[str, str]) -> Filters:
        def day(key: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat(query.get(key, "").strip()) if query.get(key) else None
            except ValueError:
                return None

        outcome = query.get("outcome", "")
        return cls(
            since=day("since"),
            until=day("until"),
            outcome=outcome if outcome in (*OUTCOMES, "error") else "",
            patient_id=query.get("patient", "").strip()[:200],
            hook_instance=query.get("hookInstance", "").strip()[:200],
        )

    def query(self) -> str:
        pairs = {
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "outcome": self.outcome,
            "patient": self.patient_id,
            "hookInstance": self.hook_instance,
        }
        return urlencode({k: v for k, v in pairs.items() if v})


def _at(row: dict[str, Any]) -> dt.datetime:
    at: dt.datetime = row["at"]
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def outcomes_of(row: dict[str, Any]) -> list[str]:
    try:
        orders = json.loads(row.get("orders") or "[]")
    except ValueError:
        return []
    return [str(o.get("outcome")) for o in orders if isinstance(o, dict)]


def rows(database: Any, f: Filters) -> list[dict[str, Any]]:
    since = dt.datetime.combine(f.since, dt.time(), dt.UTC) if f.since else None
    found: list[dict[str, Any]] = database.audit_rows(
        patient_id=f.patient_id or None, hook_instance=f.hook_instance or None, since=since, limit=MAX_ROWS
    )
    out = []
    for row in found:
        if f.until and _at(row).date() > f.until:
            continue
        if f.outcome == "error" and row["status"] < 400:
            continue
        if f.outcome and f.outcome != "error" and f.outcome not in outcomes_of(row):
            continue
        out.append(row)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass(frozen=True)
class CriteriaCounts:
    """Failing or unknown criteria over the decided orders of hook calls with a recorded
    ``criteria`` column; ``not_recorded``: answered hook calls without it (older rows)."""

    counts: Counter[tuple[str, str]]  # (label, "not met" | "unknown") -> orders
    orders: int  # decided orders read
    calls: int  # hook calls whose criteria were recorded
    not_recorded: int


def decisions_of(row: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The row's recorded decisions (``[{"outcome", "criteria"}]``), or None when not recorded."""
    raw = row.get("criteria")
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return [d for d in value if isinstance(d, dict)] if isinstance(value, list) else None


def criteria_counts(found: list[dict[str, Any]]) -> CriteriaCounts:
    counts: Counter[tuple[str, str]] = Counter()
    orders = calls = not_recorded = 0
    for row in found:
        if row["endpoint"] not in HOOK_ENDPOINTS or row["status"] >= 400:
            continue
        decisions = decisions_of(row)
        if decisions is None:
            not_recorded += 1
            continue
        calls += 1
        for decision in decisions:
            orders += 1
            statuses = decision.get("criteria")
            for label, status in (statuses.items() if isinstance(statuses, dict) else ()):
                if status in _SHOWN:
                    counts[(str(label), _SHOWN[status])] += 1
    return CriteriaCounts(counts, orders, calls, not_recorded)


def charts(found: list[dict[str, Any]]) -> str:
    limited = (
        f"<p>The charts and the table read the newest {MAX_ROWS} calls matching the filters: "
        "narrow the dates to see earlier ones.</p>" if len(found) >= MAX_ROWS else ""
    )
    hooks = [r for r in found if r["endpoint"] != "feedback"]
    days = sorted({_at(r).date().isoformat() for r in found})
    day_index = {day: i for i, day in enumerate(days)}
    series: dict[str, list[int]] = {name: [0] * len(days) for name in (*OUTCOMES, "no card", "error")}
    errors = [0] * len(days)
    calls = [0] * len(days)
    for r in hooks:
        d = day_index[_at(r).date().isoformat()]
        calls[d] += 1
        if r["status"] >= 400:
            series["error"][d] += 1
            errors[d] += 1
            continue
        for outcome in outcomes_of(r) or ["no card"]:
            series.setdefault(outcome, [0] * len(days))[d] += 1
    series = {k: v for k, v in series.items() if any(v)}
    latencies = [float(r["latency_ms"]) for r in hooks]
    pct = [(f"p{int(q * 100)}", round(percentile(latencies, q), 2)) for q in (0.5, 0.9, 0.95, 0.99)]
    criteria = criteria_counts(hooks)
    crit = criteria.counts.most_common(10)
    read = (
        f"<p>Over {criteria.orders} decided orders of {criteria.calls} hook calls whose criteria were recorded"
        + (f"; {criteria.not_recorded} answered hook calls not recorded (stored before criteria were)"
           if criteria.not_recorded else "")
        + ".</p>"
    )
    error_rate = [(day, round(100 * e / c, 1) if c else 0.0) for day, e, c in zip(days, errors, calls, strict=True)]
    return limited + (
        "<h2>Outcomes over time</h2>"
        + svg.stacked_bars("Order outcomes per day", days, series)
        + table(["Day", *series], [[text(day), *(text(v[i]) for v in series.values())] for i, day in enumerate(days)],
                caption="Outcomes per day (the chart's data)")
        + "<h2>Most frequent failing or unknown criteria</h2>"
        + read
        + svg.hbars("Failing or unknown criteria", [(f"{label} {status}", n) for (label, status), n in crit])
        + table(["Criterion", "Status", "Orders"], [[text(label), text(status), text(n)] for (label, status), n in crit],
                caption="Most frequent failing or unknown criteria (the chart's data)", cls="criteria")
        + "<h2>Latency</h2>"
        + svg.hbars(f"Latency percentiles over {len(latencies)} hook calls", pct, unit=" ms")
        + "<h2>Error rate</h2>"
        + svg.hbars("Share of hook calls answered 4xx/5xx, per day", error_rate, unit=" %")
    )


def filters_form(f: Filters) -> str:
    options = "".join(
        f'<option value="{o}"{" selected" if o == f.outcome else ""}>{o}</option>' for o in ("", *OUTCOMES, "error")
    )
    return (
        '<form method="get" action="/workbench/activity" class="filters"><fieldset><legend>Filters</legend>'
        f'<label for="since">From</label> <input type="date" id="since" name="since" value="{text(f.since or "")}"> '
        f'<label for="until">To</label> <input type="date" id="until" name="until" value="{text(f.until or "")}"> '
        f'<label for="outcome">Outcome</label> <select id="outcome" name="outcome">{options}</select> '
        f'<label for="patient">Patient id</label> <input id="patient" name="patient" value="{text(f.patient_id)}"> '
        f'<label for="hookInstance">hookInstance</label> <input id="hookInstance" name="hookInstance" value="{text(f.hook_instance)}"> '
        '<button type="submit">Apply</button></fieldset></form>'
    )


def calls_table(found: list[dict[str, Any]], limit: int = 200) -> str:
    out = []
    for r in found[:limit]:
        link = text(r["id"])
        if r.get("response") and r.get("hook_instance"):
            q = urlencode({"id": r["id"], "hookInstance": r["hook_instance"]})
            link = f'<a href="/workbench/activity/call?{text(q)}">{text(r["id"])}</a>'
        out.append([
            link,
            text(_at(r).strftime("%Y-%m-%d %H:%M:%S")),
            text(r["endpoint"]),
            text(r.get("hook_instance")),
            text(r.get("patient_id")),
            text(", ".join(outcomes_of(r))),
            text(r["status"]),
            text(f"{float(r['latency_ms']):.1f}"),
        ])
    headers = ["Call", "At (UTC)", "Endpoint", "hookInstance", "Patient", "Outcomes", "Status", "Latency ms"]
    return table(headers, out, caption=f"Calls (newest first, {min(len(found), limit)} of {len(found)})")


def find_call(database: Any, call_id: int, hook_instance: str) -> dict[str, Any] | None:
    found: list[dict[str, Any]] = database.audit_rows(hook_instance=hook_instance, limit=200)
    return next((r for r in found if r["id"] == call_id), None)


def call_html(row: dict[str, Any]) -> str:
    """One call: its non-secret columns and its stored response as an EHR shows it (cards and
    coverage information; an error's diagnostics), never the response's raw resources."""
    from cds.workbench.cards_view import cards, coverage_table

    facts = [
        ("At (UTC)", _at(row).isoformat()),
        ("Endpoint", row["endpoint"]),
        ("Service", row.get("service")),
        ("hookInstance", row.get("hook_instance")),
        ("Patient", row.get("patient_id")),
        ("Outcomes", ", ".join(outcomes_of(row))),
        ("Status", row["status"]),
        ("Latency ms", f"{float(row['latency_ms']):.1f}"),
    ]
    out = "<dl>" + "".join(f"<dt>{text(k)}</dt><dd>{text(v)}</dd>" for k, v in facts) + "</dl>"
    try:
        body = json.loads(row.get("response") or "{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if body.get("resourceType") == "OperationOutcome":
        issues = [i.get("diagnostics") for i in body.get("issue") or [] if isinstance(i, dict)]
        return out + "<h2>Error</h2><ul>" + "".join(f"<li>{text(i)}</li>" for i in issues) + "</ul>"
    actions = [a for a in body.get("systemActions") or [] if isinstance(a, dict)]
    return out + "<h2>Cards</h2>" + cards(body) + "<h2>Coverage information</h2>" + coverage_table(actions)
