"""The "Try a case" page: the case's source (an example, or a pasted request or Bundle + draft
order), the record as editable JSON and a few quick edits, and the run's result — each order's
outcome, the cards as an EHR shows them, the coverage information and the decision trace —
with a link that reproduces the case."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from cds.workbench.cards_view import cards, coverage_table
from cds.workbench.cases import PRIORITIES, SMOKING, CaseRun, Edits
from cds.workbench.hook_choice import DESCRIPTIONS, HOOKS
from cds.workbench.html import json_block, page, table, text
from cds.workbench.policy_view import PolicyView
from cds.workbench.trace import trace


@dataclass(frozen=True)
class Example:
    name: str
    request: dict[str, Any]
    now: dt.datetime | None
    outcomes: dict[str, str]


@dataclass(frozen=True)
class Source:
    request: dict[str, Any]
    now: dt.datetime
    example: str = ""
    case_id: str = ""

    def query(self, edits: Edits, hook: str = "order-sign") -> str:
        base = {"case": self.case_id} if self.case_id else {"example": self.example}
        return urlencode({**base, **edits.query(), **({"hook": hook} if hook != "order-sign" else {})})


def _select(name: str, label: str, options: list[tuple[str, str]], chosen: str) -> str:
    items = "".join(
        f'<option value="{text(v)}"{" selected" if v == chosen else ""}>{text(shown)}</option>' for v, shown in options
    )
    return f'<label for="{name}">{text(label)}</label> <select id="{name}" name="{name}">{items}</select>'


def hook_choice(hook: str) -> str:
    """The hook to try the case as: radio buttons (no script needed)."""
    options = "".join(
        f'<label><input type="radio" name="hook" value="{h}"{" checked" if h == hook else ""}> {text(DESCRIPTIONS[h])}</label><br>'
        for h in HOOKS
    )
    return f'<fieldset class="hooks"><legend>Try it as</legend>{options}</fieldset>'


def case_form(examples: dict[str, Example], src: Source, edits: Edits, hook: str = "order-sign") -> str:
    names = [("", "(pasted case)")] if src.case_id else []
    picker = _select("example", "Example", names + [(n, n) for n in examples], src.example)
    request = json.dumps(src.request, indent=2, ensure_ascii=False)
    chimerism = "" if edits.chimerism is None else f"{edits.chimerism:g}"
    return (
        '<form method="post" action="/workbench/try" class="case">'
        f"<fieldset><legend>The case</legend><p>{picker}"
        ' <span class="hint">(clear the request below to run the example as it is)</span></p>'
        '<p><label for="request">Order-sign request, or a FHIR Bundle of the record (JSON)</label><br>'
        f'<textarea id="request" name="request" rows="14" cols="100" spellcheck="false">{text(request)}</textarea></p>'
        '<p class="js-only" hidden><label for="upload">Or load a JSON file</label> '
        '<input type="file" id="upload" accept=".json,application/json" data-target="request"></p>'
        '<p><label for="order">Draft order (a ServiceRequest, JSON; only with a Bundle that has no draft order)</label><br>'
        '<textarea id="order" name="order" rows="3" cols="100" spellcheck="false"></textarea></p></fieldset>'
        "<fieldset><legend>Quick edits</legend><p>"
        f'<label for="chimerism">Donor chimerism %</label> <input type="number" id="chimerism" name="chimerism" min="0" max="100" step="any" value="{text(chimerism)}"> '
        + _select("smoking", "Add a smoking status", [("", "(none)")] + [(k, v[1]) for k, v in SMOKING.items()], edits.smoking or "")
        + " "
        + _select("priority", "Order priority", [("", "(as ordered)")] + [(p, p) for p in PRIORITIES], edits.priority or "")
        + "</p></fieldset>"
        + hook_choice(hook)
        + '<p><button type="submit">Run the case</button></p></form>'
    )


def _sent(run: CaseRun) -> str:
    """The hook and the context of the request it got (the record is the case's, above)."""
    return (
        f'<p id="answered-as" data-hook="{text(run.hook)}">Answered as <strong>{text(run.hook)}</strong>: '
        f"{text(DESCRIPTIONS[run.hook].split(': ', 1)[1])}.</p>"
        f"<details class=\"sent\"><summary>The {text(run.hook)} request's context</summary>"
        f"{json_block(run.sent.get('context'))}</details>"
    )


def result(run: CaseRun, src: Source, edits: Edits, policy: PolicyView) -> str:
    link = f"/workbench/try?{src.query(edits, run.hook)}"
    out = [
        '<section aria-labelledby="result"><h2 id="result">Result</h2>',
        _sent(run),
        f'<p>Reproduce this case: <a id="permalink" href="{text(link)}">{text(link)}</a> '
        f"(evaluated at {text(run.now.isoformat())})</p>",
    ]
    out.append(
        '<p class="note">The workbench reads no FHIR server (a pasted request\'s fhirServer and '
        "fhirAuthorization are dropped): the record is what the request carries.</p>"
    )
    out.extend(f'<p class="note">{text(n)}</p>' for n in run.notes)
    if run.error:
        out.append(f'<p role="alert" class="error">The service refused the request: {text(run.error)}</p>')
    if run.answer is not None:
        orders = [[text(o.get("order")), text(o.get("outcome"))] for o in run.answer.orders]
        out.append(table(["Order", "Outcome"], orders, caption="Outcome per draft order", cls="outcomes"))
        out.append('<h2 id="cards">Cards</h2>' + cards(run.answer.body))
        actions = [a for a in run.answer.body.get("systemActions") or [] if isinstance(a, dict)]
        out.append('<h2 id="coverage">Coverage information</h2>' + coverage_table(actions))
    out.append('<h2 id="trace">Decision trace</h2>' + trace(run.outcome, policy))
    out.append("</section>")
    return "".join(out)


def try_page(
    examples: dict[str, Example],
    src: Source,
    run: CaseRun | None,
    edits: Edits,
    policy: PolicyView,
    error: str = "",
    hook: str = "order-sign",
) -> str:
    title = f"Try a case: {src.example}" if src.example and run else "Try a case"
    body = ""
    if error:
        body += f'<p role="alert" class="error">{text(error)}</p>'
    if run is not None:
        body += result(run, src, edits, policy)
    body += case_form(examples, src, edits, hook)
    return page(title, body, current="/workbench/try")
