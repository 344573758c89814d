"""The card for one in-scope order: what the clinician reads.

Summary (< 140 characters) naming the outcome; indicator ``info`` (criteria met) or ``warning``;
``source.label`` the plan's name, ``source.topic`` from the CDS Hooks card-type code system; a
detail that names the order and lists every criterion as met / not met / unknown with the
evidence that decided it (resource reference, value, date — rendered with FHIRPath) and the free text the library read, quoted
with its negation marked; override
reasons with displays; a link to the policy. No I/O.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cds.fhirpath import FhirPath, FhirPathError, compiled, is_choice_element
from cds.policy import Decision

CARD_TYPES = "http://terminology.hl7.org/CodeSystem/cdshooks-card-type"
OVERRIDE_SYSTEM = "https://dli-cds.org/fhir/CodeSystem/override-reason"
OVERRIDE_REASONS = [
    {
        "system": OVERRIDE_SYSTEM,
        "code": "record-out-of-date",
        "display": "The record is out of date; documentation follows",
    },
    {
        "system": OVERRIDE_SYSTEM,
        "code": "clinical-exception",
        "display": "Clinical exception: will justify in the prior authorization",
    },
    {"system": OVERRIDE_SYSTEM, "code": "not-applicable", "display": "Not a donor lymphocyte infusion"},
]
STATUS_TEXT = {"met": "met", "not-met": "**not met**", "unknown": "unknown"}
SUMMARY = {
    "meets-criteria": "CP.MP.101 criteria met for {order}: prior authorization required",
    "not-medically-necessary": "{order} not medically necessary under CP.MP.101 ({labels})",
    "documentation-needed": "{order}: documentation needed for CP.MP.101 (complete the DLI questionnaire)",
}
# Evidence rendering (compiled once): what it is, its values, its status, its date. Each is a
# list of FHIRPath alternatives read in order (what a union would give, without evaluating the
# alternatives after the first that answers); an alternative whose root element the resource
# does not have is skipped without calling FHIRPath. A `_Quantity` alternative reads Quantity
# elements and shows the first as `value unit`, nothing when either is missing (FHIRPath's
# `value.toString() + ' ' + unit`, in one FHIRPath call instead of two). Choice elements are
# named by their JSON property (`valueQuantity`): the values of `value.ofType(Quantity)`, which
# fhirpathpy reads at about half the cost.
_WHAT = [
    "code.text",
    "code.coding.display",
    "code.coding.code",
    "description.text",
    "medicationCodeableConcept.text",
    "medicationCodeableConcept.coding.display",
    "questionnaire",
]


class _Quantity:
    """An alternative whose FHIRPath ``expression`` gives Quantity elements (see above)."""

    __slots__ = ("expression",)

    def __init__(self, expression: str) -> None:
        self.expression = expression


_VALUE: list[str | _Quantity] = [
    _Quantity("valueQuantity"),
    "valueCodeableConcept.coding.display",
    "valueCodeableConcept.text",
    "valueString",
    "valueInteger.toString()",
    "valueBoolean.toString()",
    "stage.summary.text",
]
_STATUS = ["clinicalStatus.coding.code"]
_DATE = [
    "effectiveDateTime",
    "effectivePeriod.start",
    "performedDateTime",
    "performedPeriod.start",
    "onsetDateTime",
    "recordedDate",
    "authored",
    "authoredOn",
    "startDate",
    "issued",
]


class _Alternatives:
    """FHIRPath alternatives, each with the JSON its path needs: the root element ``x.ofType(T)``
    needs the choice key ``xT`` (``value.ofType(Quantity)``: ``valueQuantity``); a root that is
    a choice element named without its type a key ``x[Type]``; any other root the key of its
    name; the plain member names that follow (up to the first function) their keys inside it.
    A resource without them cannot answer (member access on JSON finds nothing), so FHIRPath is
    not called for it."""

    def __init__(self, expressions: Sequence[str | _Quantity]) -> None:
        self.paths: list[tuple[tuple[str, bool, tuple[str, ...]], tuple[FhirPath, bool]]] = []
        for e in expressions:
            quantity = isinstance(e, _Quantity)
            expression = e.expression if isinstance(e, _Quantity) else e
            needed = _needed_keys(expression + ".value" if quantity else expression)  # a value to show
            self.paths.append((needed, (compiled(expression), quantity)))

    def values(self, resource: dict[str, Any], limit: int) -> list[Any]:
        out: list[Any] = []
        for (key, exact, members), alternative in self.paths:
            if key in resource:
                if not _has_members(resource[key], members):
                    continue
            elif exact or not any(k.startswith(key) for k in resource):
                continue
            for value in _evaluate(alternative, resource):
                if value not in out:
                    out.append(value)
                    if len(out) == limit:
                        return out
        return out

    def first(self, resource: dict[str, Any]) -> Any:
        found = self.values(resource, 1)
        return found[0] if found else None


def _evaluate(alternative: tuple[FhirPath, bool], resource: dict[str, Any]) -> list[Any]:
    path, quantity = alternative
    if not quantity:
        return path(resource)
    first = path.first(resource)
    if not isinstance(first, dict):
        return []
    # fhirpathpy gives the Quantity's JSON with its value as FHIRPath reads it (a decimal as a
    # Decimal): str() of it is what toString() gives.
    value, unit = first.get("value"), first.get("unit")
    return [f"{value} {unit}"] if value is not None and unit is not None else []


def _needed_keys(expression: str) -> tuple[str, bool, tuple[str, ...]]:
    """(root key, exact, member keys below it) that a resource must have for ``expression`` to
    give anything."""
    root, _, rest = expression.partition(".")
    typed = rest.startswith("ofType(") and ")" in rest
    exact = typed or not is_choice_element(root)
    if typed:
        type_name = rest[len("ofType(") : rest.index(")")]
        root, rest = root + type_name[0].upper() + type_name[1:], rest[rest.index(")") + 2 :]
    members: list[str] = []
    for step in rest.split(".") if rest else ():
        if not step.isidentifier():  # a function call: what it needs is not a key
            break
        members.append(step)
    return root, exact, tuple(members)


def _has_members(value: Any, members: tuple[str, ...]) -> bool:
    """Whether JSON ``value`` (an element, or a list of them) has the nested keys ``members``."""
    if not members:
        return value is not None
    if isinstance(value, list):
        return any(_has_members(item, members) for item in value)
    if isinstance(value, dict) and members[0] in value:
        return _has_members(value[members[0]], members[1:])
    return False


_WHAT_OF = _Alternatives(_WHAT)
_VALUES_OF = _Alternatives(_VALUE)
_STATUS_OF = _Alternatives(_STATUS)
_DATE_OF = _Alternatives(_DATE)


def _order_name(order: dict[str, Any]) -> str:
    raw = order.get("code")
    code: dict[str, Any] = raw if isinstance(raw, dict) else {}
    text = code.get("text")
    if not text:
        codings = code.get("coding") or []
        text = next((c.get("display") or c.get("code") for c in codings if isinstance(c, dict)), None)
    name = str(text or "Donor lymphocyte infusion")
    return name if len(name) <= 60 else name[:57] + "..."


def _evidence_line(resource: dict[str, Any]) -> str:
    try:
        return _render_evidence(resource)
    except FhirPathError:  # data FHIRPath cannot read: show the reference alone
        return f"`{resource.get('resourceType')}/{resource.get('id')}`"


def _render_evidence(resource: dict[str, Any]) -> str:
    ref = f"{resource.get('resourceType')}/{resource.get('id')}"
    what = _WHAT_OF.first(resource)
    values = [str(v) for v in _VALUES_OF.values(resource, 2)]
    when = _DATE_OF.first(resource)
    parts = [f"`{ref}`"]
    if what:
        parts.append(str(what))
    if values:
        parts.append("value " + ", ".join(values))
    status = _STATUS_OF.first(resource)
    if status:
        parts.append(f"status {status}")
    if when:
        parts.append(f"({when})")
    return " ".join(parts)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def detail(decision: Decision) -> str:
    order = _order_name(decision.order)
    lines = [
        f"**Order:** {_escape(order)} (`{decision.order_ref}`)",
        "",
        f"**CP.MP.101 outcome:** {decision.outcome.replace('-', ' ') if decision.outcome else 'none'}",
    ]
    if decision.reason:
        lines.append(f"**Why:** {_escape(decision.reason)}")
    lines += ["", "| Criterion | Status | Reason | Evidence |", "|---|---|---|---|"]
    rendered: dict[int, str] = {}  # a resource cited by several criteria is rendered once
    for c in decision.criteria:
        for r in c.evidence:
            if id(r) not in rendered:
                rendered[id(r)] = _escape(_evidence_line(r))
        lines_of = [_escape(q) for q in c.quotes] + [rendered[id(r)] for r in c.evidence]
        evidence = "<br>".join(lines_of) or "none on record"
        lines.append(
            f"| {c.label} {_escape(c.title)} | {STATUS_TEXT.get(c.status, c.status)} | {_escape(c.reason)} | {evidence} |"
        )
    lines += ["", "I.A or I.B must be met, and none of I.C.1-I.C.4 or II.A-II.D may apply."]
    if decision.outcome == "documentation-needed":
        lines.append("Complete the DLI questionnaire, then sign the order again.")
    return "\n".join(lines)


def card(decision: Decision, *, uuid: str, plan_name: str, policy_url: str) -> dict[str, Any]:
    assert decision.outcome is not None
    order = _order_name(decision.order)
    labels = ", ".join(decision.failing[:3]) or "criteria"
    summary = SUMMARY[decision.outcome].format(order=order, labels=labels)
    if len(summary) >= 140:
        summary = SUMMARY[decision.outcome].format(order="DLI order", labels=labels)[:139]
    return {
        "uuid": uuid,
        "summary": summary,
        "indicator": "info" if decision.outcome == "meets-criteria" else "warning",
        "detail": detail(decision),
        "source": {
            "label": plan_name,
            "url": policy_url,
            "topic": {"system": CARD_TYPES, "code": "guideline", "display": "Guideline"},
        },
        "overrideReasons": OVERRIDE_REASONS,
        "links": [
            {"label": "CP.MP.101 Donor Lymphocyte Infusion policy", "url": policy_url, "type": "absolute"}
        ],
    }


def technical_card(
    order: dict[str, Any], *, uuid: str, plan_name: str, policy_url: str, why: str, out_of_time: bool = False
) -> dict[str, Any]:
    """The card of a technical answer: the record could not be read, or (``out_of_time``) the
    evaluation did not finish within the request's time budget."""
    cause = "the check ran out of time" if out_of_time else "the patient's record could not be read"
    return {
        "uuid": uuid,
        "summary": f"CP.MP.101 could not be checked: {cause}",
        "indicator": "warning",
        "detail": (
            f"**Order:** {_escape(_order_name(order))} (`{order.get('resourceType')}/{order.get('id')}`)\n\n"
            f"The coverage requirements for this donor lymphocyte infusion could not be determined: {_escape(why)}. "
            "Sign again later, or submit the prior authorization with the clinical documentation."
        ),
        "source": {
            "label": plan_name,
            "url": policy_url,
            "topic": {"system": CARD_TYPES, "code": "guideline", "display": "Guideline"},
        },
        "links": [
            {"label": "CP.MP.101 Donor Lymphocyte Infusion policy", "url": policy_url, "type": "absolute"}
        ],
    }


def with_dtr_launch(
    card: dict[str, Any], app_url: str, *, order: str, coverage: str, assertion_id: str, questionnaire: str
) -> dict[str, Any]:
    """The card with CRD's "launch SMART application" link to the DTR app: ``appContext``
    carries the order, the coverage, the ``coverage-assertion-id`` and the questionnaire."""
    app_context = {
        "order": order,
        "coverage": coverage,
        "coverageAssertionId": assertion_id,
        "questionnaire": [questionnaire],
    }
    link = {
        "label": "Complete the DLI documentation in the DTR app",
        "url": app_url,
        "type": "smart",
        "appContext": json.dumps(app_context, separators=(",", ":")),
    }
    return {**card, "links": [*card.get("links", []), link]}
