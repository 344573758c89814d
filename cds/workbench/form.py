"""The DLI Questionnaire (``cql/questionnaire``) as an HTML form, and the form's answers as a
completed QuestionnaireResponse, added to a case's record (the hook reads completed responses
from prefetch). Prepopulation from the record comes with DTR (a later issue)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cds.workbench.html import slug, text


def _field(item: dict[str, Any]) -> str:
    link_id = str(item.get("linkId"))
    name = f"q-{slug(link_id)}"
    label = text(item.get("text"))
    kind = item.get("type")
    if kind == "boolean":
        options = "".join(
            f'<label><input type="radio" name="{name}" value="{value}"{" checked" if value == "" else ""}> {shown}</label>'
            for value, shown in (("true", "Yes"), ("false", "No"), ("", "Not answered"))
        )
        return f'<fieldset class="question"><legend>{label}</legend>{options}</fieldset>'
    if kind in ("integer", "decimal"):
        step = "1" if kind == "integer" else "any"
        return (
            f'<p class="question"><label for="{name}">{label}</label> '
            f'<input type="number" id="{name}" name="{name}" step="{step}" min="0"></p>'
        )
    return (
        f'<p class="question"><label for="{name}">{label}</label> '
        f'<input type="text" id="{name}" name="{name}"></p>'
    )


def form_html(questionnaire: dict[str, Any]) -> str:
    """The questionnaire's items, grouped as it groups them; every input has a label."""
    out = []
    for group in questionnaire.get("item") or []:
        children = group.get("item") or []
        if group.get("type") == "group":
            fields = "".join(_field(i) for i in children)
            out.append(f'<fieldset class="group"><legend>{text(group.get("text"))}</legend>{fields}</fieldset>')
        else:
            out.append(_field(group))
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
) -> dict[str, Any]:
    """A completed QuestionnaireResponse of the answered items (unanswered items are left out)."""
    groups = []
    for group in questionnaire.get("item") or []:
        answered = []
        for item in group.get("item") or []:
            answer = _answer(item, form.get(f"q-{slug(str(item.get('linkId')))}", ""))
            if answer is not None:
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
