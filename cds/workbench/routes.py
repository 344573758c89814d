"""The workbench's routes (mounted at ``/workbench``): examples, try a case, the form, the
policy, activity, and the packaged static assets. Every case runs through the chosen hook's
service (``cds.workbench.cases``, ``hook_choice``) and the form is prepopulated by DTR's
prepopulation (``cds.workbench.form``); nothing here decides anything."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cds.db import Database
from cds.errors import ServiceError
from cds.order_sign import OrderSignService
from cds.workbench import activity as act
from cds.workbench import hook_choice
from cds.workbench.cases import (
    CaseError,
    CaseStore,
    Edits,
    apply_edits,
    parse_pasted,
    run_case,
    without_server,
)
from cds.workbench.form import FormPrepopulation, Prefill, form_html, response_from_form, with_response
from cds.workbench.html import page, table, text
from cds.workbench.policy_view import PolicyView
from cds.workbench.try_view import Example, Source, try_page

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {"workbench.css": "text/css", "workbench.js": "text/javascript"}
MAX_FORM_BYTES = 2_000_000


def _examples(folder: Path) -> dict[str, Example]:
    if not folder.is_dir():  # an installed service without the repository's examples
        return {}
    out = {}
    for p in sorted(folder.iterdir()):
        if (p / "request.json").is_file():
            case = json.loads((p / "case.json").read_text()) if (p / "case.json").is_file() else {}
            request, _ = without_server(json.loads((p / "request.json").read_text()))
            now = dt.datetime.fromisoformat(case["now"]) if "now" in case else None
            out[p.name] = Example(p.name, request, now, case.get("outcomes", {}))
    return out


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, "the form is too large")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def workbench_routes(
    service: OrderSignService,
    database: Database,
    examples_dir: Path,
    questionnaire_url: Callable[[Request], str],
    cql_dir: Path,
    clock: Callable[[], dt.datetime],
    activity_dependencies: Sequence[Any] = (),
) -> APIRouter:
    """``activity_dependencies``: what guards the activity (audit) view, e.g. the SMART scope
    check when authentication is on."""
    router = APIRouter(include_in_schema=False)  # mounted at /workbench
    examples = _examples(examples_dir)
    policy = PolicyView.load(cql_dir)
    questionnaire: dict[str, Any] = json.loads((cql_dir / "questionnaire" / "dli-cp-mp-101.json").read_text())
    store = CaseStore()
    prepopulation = FormPrepopulation(cql_dir)

    def source(query: dict[str, str]) -> Source:
        """The case a query names: a stored case id, else an example (the first by default)."""
        if query.get("case"):
            found = store.get(query["case"])
            if found is None:
                raise HTTPException(404, "no such case (cases pasted in the page live while the service runs)")
            return Source(found[0], found[1], case_id=query["case"])
        name = query.get("example") or next(iter(examples), "")
        example = examples.get(name)
        if example is None:
            raise HTTPException(404, "no such example")
        return Source(example.request, example.now or clock(), example=name)

    async def show(request: Request, query: dict[str, str], error: str = "", status: int = 200) -> HTMLResponse:
        src = source(query)
        hook = hook_choice.chosen(query.get("hook"))
        run = None
        if not error and (query.get("example") or query.get("case")):
            try:
                edits = Edits.parse(query)
            except CaseError as exc:
                return HTMLResponse(try_page(examples, src, None, Edits(), policy, str(exc), hook), 400)
            edited = apply_edits(src.request, edits, src.now)
            run = await run_case(service, edited, src.now, questionnaire_url(request), hook)
        else:
            edits = Edits()
        return HTMLResponse(try_page(examples, src, run, edits, policy, error, hook), status)

    @router.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        rows = [
            [
                f'<a href="/workbench/try?example={text(name)}">{text(name)}</a>',
                text(", ".join(f"{k}: {v}" for k, v in e.outcomes.items())),
                f'<a href="/workbench/form?example={text(name)}">answer the form</a>',
            ]
            for name, e in examples.items()
        ]
        intro = (
            "<p>Pick an example to run it through the order-sign service (or, on the Try page, as order-select "
            "or order-dispatch) and see its cards and decision trace.</p>"
        )
        body = intro + table(["Example", "Expected outcomes", "Questionnaire"], rows, caption="The fhir-examples cases")
        return HTMLResponse(page("Examples", body, current="/workbench/"))

    @router.get("/examples/{name}", response_class=HTMLResponse)
    async def example(name: str, request: Request) -> HTMLResponse:
        if name not in examples:
            raise HTTPException(404, "no such example")
        return await show(request, {"example": name})

    @router.get("/try", response_class=HTMLResponse)
    async def try_get(request: Request) -> HTMLResponse:
        return await show(request, dict(request.query_params))

    @router.post("/try", response_model=None)
    async def try_post(request: Request) -> Response:
        form = await _form(request)
        try:
            edits = Edits.parse(form)
            pasted = form.get("request", "").strip()
            example = examples.get(form.get("example", ""))
            if not pasted:
                if example is None:
                    raise CaseError("pick an example or paste a request or Bundle")
                target = {"example": example.name}
            else:
                parsed, _ = without_server(parse_pasted(pasted, form.get("order", "")))
                # An example's record left as it was (the picker may have moved on): the example.
                if example is not None and any(parsed == e.request for e in examples.values()):
                    target = {"example": example.name}
                else:
                    target = {"case": store.put(parsed, example.now if example and example.now else clock())}
        except CaseError as exc:
            return await show(request, {k: v for k, v in form.items() if k == "example"}, str(exc), 400)
        hook = hook_choice.chosen(form.get("hook"))
        chosen = {"hook": hook} if hook != "order-sign" else {}
        return RedirectResponse(f"/workbench/try?{urlencode({**target, **edits.query(), **chosen})}", 303)

    def prefill(request: Request, src: Source) -> Prefill:
        """The form's answers from the case's record: DTR's prepopulation (``cds.dtr``)."""
        served = {**questionnaire, "url": questionnaire_url(request)}
        try:
            draft = prepopulation.draft(served, without_server(src.request)[0], src.now)
        except ServiceError as exc:
            return Prefill(note=f"the record could not be read: {exc.message}")
        except ValueError as exc:
            return Prefill(note=str(exc))
        return Prefill.of_response(draft)

    @router.get("/form", response_class=HTMLResponse)
    async def form_get(request: Request) -> HTMLResponse:
        query = dict(request.query_params)
        src = source(query)
        filled = prefill(request, src)
        asked = sum(1 for group in questionnaire.get("item") or [] for _ in group.get("item") or [])
        picker = "".join(
            f'<option value="{text(n)}"{" selected" if n == src.example else ""}>{text(n)}</option>' for n in examples
        )
        chooser = "" if src.case_id else (
            '<form method="get" action="/workbench/form" class="record"><p>'
            f'<label for="example">Record (example)</label> <select id="example" name="example">{picker}</select> '
            '<button type="submit">Prepopulate from this record</button></p></form>'
        )
        hidden = (
            f'<input type="hidden" name="case" value="{text(src.case_id)}">' if src.case_id else
            f'<input type="hidden" name="example" value="{text(src.example)}">'
        )
        status = (
            f'<p role="status" class="note">Nothing was prepopulated: {text(filled.note)}.</p>' if filled.note else
            f'<p role="status" class="note" id="prefilled">{len(filled.values)} of {asked} answers were prepopulated '
            "from the record; the others are the clinician's to give.</p>"
        )
        body = (
            "<p>The DLI questionnaire (CP.MP.101), prepopulated from the record as a DTR app prepopulates it: "
            "our engine runs <code>cql/DLIPrepopulation.cql</code> (the library the DTR questionnaire package "
            "carries, and <code>dli-cds dtr prepopulate</code> runs). Each prepopulated answer is marked with its "
            "DTR information origin. Answering adds a completed QuestionnaireResponse to the record and re-runs "
            "the decision, as the hook does with a response in prefetch.</p>"
            f"{chooser}{status}"
            f'<form method="post" action="/workbench/form" class="questionnaire">{hidden}{form_html(questionnaire, filled)}'
            '<p><button type="submit">Run the decision with these answers</button></p></form>'
        )
        return HTMLResponse(page("The form", body, current="/workbench/form"))

    @router.post("/form", response_model=None)
    async def form_post(request: Request) -> Response:
        form = await _form(request)
        src = source({k: v for k, v in form.items() if k in ("case", "example")})
        context = src.request.get("context") or {}
        try:
            answers = response_from_form(
                questionnaire,
                form,
                patient_id=str(context.get("patientId", "")),
                questionnaire_url=questionnaire_url(request),
                now=src.now,
                prefill=prefill(request, src),
            )
        except ValueError as exc:
            return HTMLResponse(page("The form", f'<p role="alert" class="error">{text(exc)}</p>'), 400)
        key = store.put(with_response(src.request, answers), src.now)
        return RedirectResponse(f"/workbench/try?{urlencode({'case': key})}", 303)

    def policy_body() -> str:
        return (
            "<p>The CQL library the service evaluates, with every define anchored, and its value sets.</p>"
            '<nav aria-label="On this page"><a href="#library">Library</a> | <a href="#valuesets">Value sets</a></nav>'
            + policy.criteria_html()
            + '<h2 id="library">The CQL library</h2>'
            + policy.index_html()
            + policy.library_html()
            + '<h2 id="valuesets">Value sets</h2>'
            + policy.valuesets_html()
        )

    policy_html = page("The policy", policy_body(), current="/workbench/policy")  # the library is fixed

    @router.get("/policy", response_class=HTMLResponse)
    async def policy_page() -> HTMLResponse:
        return HTMLResponse(policy_html)

    @router.get("/activity", response_class=HTMLResponse, dependencies=list(activity_dependencies))
    async def activity(request: Request) -> HTMLResponse:
        filters = act.Filters.parse(dict(request.query_params))
        found = act.rows(database, filters)
        body = act.filters_form(filters) + act.charts(found) + "<h2>Calls</h2>" + act.calls_table(found)
        return HTMLResponse(page("Activity", body, current="/workbench/activity"))

    @router.get("/activity/call", response_class=HTMLResponse, dependencies=list(activity_dependencies))
    async def call(request: Request) -> HTMLResponse:
        try:
            call_id = int(request.query_params.get("id", ""))
        except ValueError:
            raise HTTPException(404, "no such call") from None
        row = act.find_call(database, call_id, request.query_params.get("hookInstance", ""))
        if row is None:
            raise HTTPException(404, "no such call")
        return HTMLResponse(page(f"Call {call_id}", act.call_html(row)))

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in ASSETS:
            raise HTTPException(404, "no such asset")
        return Response((STATIC / name).read_bytes(), media_type=ASSETS[name],
                        headers={"Cache-Control": "max-age=3600"})

    return router
