"""The decision for one order, read from the policy library's result defines (no I/O, no
policy rules: the library decides)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cds.cql.runtime.fhir import FhirNode

OUTCOMES = ("meets-criteria", "not-medically-necessary", "documentation-needed")
STATUSES = ("met", "not-met", "unknown")


@dataclass(frozen=True)
class Criterion:
    label: str
    title: str
    status: str  # met | not-met | unknown
    reason: str
    evidence: tuple[dict[str, Any], ...]  # the resources' JSON
    quotes: tuple[str, ...] = ()  # the free text read, e.g. "order detail: 'no T-cell depletion' (negated)"


@dataclass(frozen=True)
class Decision:
    order: dict[str, Any]
    in_scope: bool
    outcome: str | None
    criteria: tuple[Criterion, ...]
    failing: tuple[str, ...]
    unknown: tuple[str, ...]
    missing_facts: tuple[str, ...]
    reason: str | None

    @property
    def order_ref(self) -> str:
        return f"{self.order.get('resourceType')}/{self.order.get('id')}"


def _evidence(values: Any) -> tuple[dict[str, Any], ...]:
    out = []
    for value in values or []:
        node = value if isinstance(value, FhirNode) else None
        if node is not None and isinstance(node.data, dict):
            out.append(node.data)
    return tuple(out)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _criterion(number: int, row: Any) -> Criterion:
    """One row of ``Criteria``. A row without a label or a known status breaks the library's
    contract (a ValueError saying which row); a null title or reason (e.g. a reason the library
    built from a null) is shown empty rather than failing the decision."""
    if not isinstance(row, dict):
        raise ValueError(
            f"the policy library returned criterion {number} as {type(row).__name__}, not a tuple"
        )
    label, status = row.get("label"), row.get("status")
    if not isinstance(label, str) or not label:
        raise ValueError(f"the policy library returned criterion {number} without a label")
    if status not in STATUSES:
        raise ValueError(f"the policy library returned criterion {label} with status {status!r}")
    return Criterion(
        label=label,
        title=_text(row.get("title")),
        status=status,
        reason=_text(row.get("reason")),
        evidence=_evidence(row.get("evidence")),
        quotes=tuple(q for q in row.get("quotes") or () if isinstance(q, str)),
    )


def decide(order: dict[str, Any], values: dict[str, Any]) -> Decision:
    outcome = values.get("Outcome")
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"the policy library returned an unknown outcome {outcome!r}")
    criteria = tuple(_criterion(i, row) for i, row in enumerate(values.get("Criteria") or [], start=1))
    return Decision(
        order=order,
        in_scope=values.get("In Scope") is True,
        outcome=outcome,
        criteria=criteria,
        failing=tuple(values.get("Failing Criteria") or ()),
        unknown=tuple(values.get("Unknown Criteria") or ()),
        missing_facts=tuple(values.get("Missing Facts") or ()),
        reason=values.get("Coverage Reason"),
    )
