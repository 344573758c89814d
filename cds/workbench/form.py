"""The DLI Questionnaire (``cql/questionnaire``) as an HTML form, prepopulated from the case's
record, and the form's answers as a completed QuestionnaireResponse added to the case's record
(the hook reads completed responses from prefetch).

Prepopulation is DTR's: :class:`FormPrepopulation` runs ``cql/DLIPrepopulation.cql`` through
:class:`cds.dtr.prepopulation.Prepopulator` and builds the draft response with
``draft_response`` — the code ``dli-cds dtr prepopulate`` runs, on the record the order-sign
hook reads from the request's prefetch. Each prepopulated answer carries DTR's
``information-origin`` (source ``auto-server``); the form shows it beside the answer, and the
completed response keeps it for answers left as prepopulated, ``override`` for a changed one and
``manual`` for one the clinician gave where the record had none.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.dtr.prepopulation import DTR, Prepopulator, enabled, items
from cds.workbench.html import slug, text

ORIGIN = DTR + "information-origin"
_VALUE_KEYS = ("valueBoolean", "valueInteger", "valueDecimal", "valueString")
ORIGIN_SHOWN = {
    "auto-server": "from the record",
    "auto-client": "from the record",
    "override": "changed by the clinician",
    "manual": "answered by the clinician",
}


@dataclass(frozen=True)
class Prefill:
    """A draft QuestionnaireResponse's answers by linkId (the FHIR answer value, e.g.
    ``True``, ``0``, ``95``) and their ``information-origin`` source."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    note: str = ""  # why nothing was prepopulated, when nothing could be

    @classmethod
    def of_response(cls, response: dict[str, Any]) -> Prefill:
        values: dict[str, Any] = {}
        origins: dict[str, str] = {}
        for item in items(response.get("item") or []):
            for answer in (item.get("answer") or [])[:1]:
                key = next((k for k in _VALUE_KEYS if k in answer), None)
                if key is None:
                    continue
                values[item["linkId"]] = answer[key]
                origins[item["linkId"]] = _origin(answer) or "auto-server"
        return cls(values, origins)


def _origin(answer: dict[str, Any]) -> str | None:
    for ext in answer.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == ORIGIN:
            for sub in ext.get("extension") or []:
                if isinstance(sub, dict) and sub.get("url") == "source":
                    return str(sub.get("valueCode"))
    return None


class FormPrepopulation:
    """DTR's prepopulation of the form from an order-sign request's record; the library is
    loaded and compiled on first use (the workbench's other pages do not need it)."""

    def __init__(self, cql_dir: Path) -> None:
        self._cql_dir = cql_dir
        self._prepopulator: Prepopulator | None = None

    def draft(self, questionnaire: dict[str, Any], request: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        """The draft QuestionnaireResponse for ``request``'s first draft ServiceRequest, as
        ``dli-cds dtr prepopulate`` builds it (``questionnaire``: as served, with its canonical
        ``url``). Raises ServiceError for a request the hook would refuse, ValueError for one
        without a ServiceRequest or a record the library cannot be run on."""
        if self._prepopulator is None:
            self._prepopulator = Prepopulator(self._cql_dir)
        try:
            return self._prepopulator.draft_for_request(questionnaire, request, now, questionnaire["url"])
        except CqlRuntimeError as exc:  # the engine fails closed on data it cannot evaluate
            raise ValueError(f"the prepopulation library could not run on this record: {exc}") from None


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _origin_tag(link_id: str, prefill: Prefill) -> str:
    source = prefill.origins.get(link_id)
    if source is None:
        return (
            f'<span class="origin origin-clinician" id="o-{slug(link_id)}" data-origin="clinician">'
            "not on record: the clinician answers</span>"
        )
    shown = ORIGIN_SHOWN.get(source, source)
    return (
        f'<span class="origin origin-record" id="o-{slug(link_id)}" data-origin="{text(source)}">'
        f"{text(shown)} ({text(source)})</span>"
    )


def _enable_when(item: dict[str, Any]) -> str:
    """The item's ``enableWhen`` as data attributes, for the page's script to hide a question
    its answers disable (without script every question shows, with the hint below)."""
    conditions = [
        {"question": slug(str(c.get("question"))), "answer": "true" if c.get("answerBoolean") else "false"}
        for c in item.get("enableWhen") or []
    ]
    if not conditions:
        return ""
    behavior = "all" if item.get("enableBehavior") == "all" else "any"
    return f' data-enable-when="{text(json.dumps(conditions))}" data-enable-behavior="{behavior}"'


def _condition(item: dict[str, Any]) -> str:
    conditions = item.get("enableWhen") or []
    if not conditions:
        return ""
    joined = " and " if item.get("enableBehavior") == "all" else " or "
    shown = joined.join(f"{c.get('question')} is {'Yes' if c.get('answerBoolean') else 'No'}" for c in conditions)
    return f' <span class="hint">(asked when {text(shown)})</span>'


def _field(item: dict[str, Any], prefill: Prefill) -> str:
    link_id = str(item.get("linkId"))
    name = f"q-{slug(link_id)}"
    label = text(item.get("text")) + _condition(item)
    kind = item.get("type")
    value = _shown(prefill.values.get(link_id))
    origin = _origin_tag(link_id, prefill)
    if kind == "boolean":
        options = "".join(
            f'<label><input type="radio" name="{name}" value="{v}"{" checked" if v == value else ""}> {shown}</label>'
            for v, shown in (("true", "Yes"), ("false", "No"), ("", "Not answered"))
        )
        return (
            f'<fieldset class="question" data-link-id="{text(link_id)}"{_enable_when(item)} aria-describedby="o-{slug(link_id)}">'
            f"<legend>{label}</legend>{options} {origin}</fieldset>"
        )
    kind_attrs = 'type="number" step="1" min="0"' if kind == "integer" else (
        'type="number" step="any" min="0"' if kind == "decimal" else 'type="text"'
    )
    return (
        f'<p class="question" data-link-id="{text(link_id)}"{_enable_when(item)}><label for="{name}">{label}</label> '
        f'<input {kind_attrs} id="{name}" name="{name}" value="{text(value)}" aria-describedby="o-{slug(link_id)}"> '
        f"{origin}</p>"
    )


def form_html(questionnaire: dict[str, Any], prefill: Prefill | None = None) -> str:
    """The questionnaire's items, grouped as it groups them, each with its prepopulated answer
    and where it came from; every input has a label."""
    prefill = prefill or Prefill()
    out = []
    for group in questionnaire.get("item") or []:
        children = group.get("item") or []
        if group.get("type") == "group":
            fields = "".join(_field(i, prefill) for i in children)
            out.append(f'<fieldset class="group"><legend>{text(group.get("text"))}</legend>{fields}</fieldset>')
        else:
            out.append(_field(group, prefill))
    return "".join(out)


def _answer(item: dict[str, Any], raw: str) -> dict[str, Any] | None:
    raw = raw.strip()
    if not raw:
        return None
    kind = item.get("type")
    try:
        if kind == "boolean":
            return {"valueBoolean": raw == "true"} if raw in ("true", "false") else None
        if kind == "integer":
            return {"valueInteger": int(raw)}
        if kind == "decimal":
            return {"valueDecimal": float(raw)}
    except ValueError:
        raise ValueError(f"{item.get('linkId')}: {raw!r} is not a {kind}") from None
    return {"valueString": raw}


def response_from_form(
    questionnaire: dict[str, Any],
    form: dict[str, str],
    *,
    patient_id: str,
    questionnaire_url: str,
    now: dt.datetime,
    prefill: Prefill | None = None,
) -> dict[str, Any]:
    """A completed QuestionnaireResponse of the answered items (unanswered items, and items the
    answers' ``enableWhen`` disables, are left out). With ``prefill`` (what the form was
    prepopulated with) each answer carries its ``information-origin``: the prefill's for an
    answer left as it was, ``override`` for a changed one, ``manual`` for a new one."""
    given: dict[str, dict[str, Any]] = {}
    for item in items(questionnaire.get("item") or []):
        if item.get("type") != "group":
            answer = _answer(item, form.get(f"q-{slug(str(item.get('linkId')))}", ""))
            if answer is not None:
                given[item["linkId"]] = answer
    plain = {k: next(iter(v.values())) for k, v in given.items()}
    groups = []
    for group in questionnaire.get("item") or []:
        answered = []
        for item in group.get("item") or []:
            answer = given.get(item["linkId"])
            if answer is None or not enabled(item, plain):
                continue
            if prefill is not None:
                answer = {**answer, "extension": [_origin_extension(item["linkId"], answer, prefill)]}
            answered.append({"linkId": item["linkId"], "answer": [answer]})
        if answered:
            groups.append({"linkId": group["linkId"], "item": answered})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": "workbench-form",
        "questionnaire": questionnaire_url,
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authored": now.isoformat(),
        "item": groups,
    }


def _origin_extension(link_id: str, answer: dict[str, Any], prefill: Prefill) -> dict[str, Any]:
    if link_id not in prefill.values:
        source = "manual"
    elif next(iter(answer.values())) == prefill.values[link_id]:
        source = prefill.origins.get(link_id, "auto-server")
    else:
        source = "override"
    return {"url": ORIGIN, "extension": [{"url": "source", "valueCode": source}]}


def with_response(request: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """``request`` with ``response`` as the latest of its prefetched QuestionnaireResponses."""
    request = dict(request)
    prefetch = dict(request.get("prefetch") or {})
    bundle = prefetch.get("questionnaireResponses")
    entries = list(bundle.get("entry") or []) if isinstance(bundle, dict) else []
    entries = [e for e in entries if (e.get("resource") or {}).get("id") != response["id"]]
    prefetch["questionnaireResponses"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [*entries, {"resource": response}],
    }
    request["prefetch"] = prefetch
    return request
