"""The workbench's parts without a browser: safe Markdown, the policy's anchors, cases from
pasted Bundles and quick edits, the form's QuestionnaireResponse, activity's statistics, and
every asset the pages load shipping in the package."""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cds.workbench import activity, markdown
from cds.workbench.cases import (
    CaseError,
    Edits,
    apply_edits,
    parse_pasted,
    request_from_bundle,
    without_server,
)
from cds.workbench.form import FormPrepopulation, Prefill, form_html, response_from_form, with_response
from cds.workbench.policy_view import PolicyView, define_anchor
from cds.workbench.routes import ASSETS, STATIC

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "fhir-examples"
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
LABELS = ["I", "I.A", "I.B", "I.C.1", "I.C.2", "I.C.3", "I.C.4", "II.A", "II.B", "II.C", "II.D"]


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("**Order:** x `A/b`", "<p><strong>Order:</strong> x <code>A/b</code></p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("`<b>` **<i>**", "<p><code>&lt;b&gt;</code> <strong>&lt;i&gt;</strong></p>"),
        ("[p](https://x.org/a?b=1&c=2)", '<p><a href="https://x.org/a?b=1&amp;c=2" rel="noopener noreferrer">p</a></p>'),
        ("[p](javascript:alert(1))", "<p>[p](javascript:alert(1))</p>"),
        # The quote stays an entity inside the attribute: no attribute can be added.
        ('[p](https://x.org/"onmouseover="a)',
         '<p><a href="https://x.org/&quot;onmouseover=&quot;a" rel="noopener noreferrer">p</a></p>'),
        ("a\nb\n\nc", "<p>a<br>b</p><p>c</p>"),
        ("| A | B |\n|---|---|\n| **x** | <y> |",
         '<table class="md"><thead><tr><th scope="col">A</th><th scope="col">B</th></tr></thead>'
         "<tbody><tr><td><strong>x</strong></td><td>&lt;y&gt;</td></tr></tbody></table>"),
    ],
)
def test_markdown_subset_is_escaped_first(source: str, html: str) -> None:
    assert markdown.render(source) == html


def test_every_card_detail_renders_without_raw_tags() -> None:
    for path in sorted(EXAMPLES.glob("*/expected.json")):
        for card in json.loads(path.read_text()).get("cards", []):
            html = markdown.render(card["detail"])
            tags = set(re.findall(r"</?([a-z0-9]+)", html))
            assert tags <= {"p", "br", "strong", "em", "code", "a", "table", "thead", "tbody", "tr", "th", "td"}


def test_policy_links_every_criterion_to_an_anchored_define() -> None:
    policy = PolicyView.load(ROOT / "cql")
    assert list(policy.criterion_defines) == LABELS
    html = policy.library_html()
    for label in LABELS:
        status = policy.criterion_defines[label][0]
        assert status.endswith("Status")
        assert f'id="{define_anchor(status)}"' in html
        assert f'href="/workbench/policy#{define_anchor(status)}"' in policy.criterion_links(label)
    sets = policy.valuesets_html()
    assert "449868002" in sets and len(policy.valuesets) == len(list((ROOT / "cql" / "valuesets").glob("*.json")))


def _request(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name / "request.json").read_text())
    return data


def test_bundle_and_order_become_a_request_with_every_prefetch_key() -> None:
    request = _request("01-meets-aml-relapse-prevention")
    record = [e["resource"] for v in request["prefetch"].values() if v for e in v.get("entry", [{"resource": v}])]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in record]}
    order = request["context"]["draftOrders"]["entry"][0]["resource"]
    built = parse_pasted(json.dumps(bundle), json.dumps(order))
    assert built["context"]["patientId"] == request["context"]["patientId"]
    assert set(built["prefetch"]) == set(request["prefetch"])
    assert built["context"]["draftOrders"]["entry"][0]["resource"] == order
    with pytest.raises(CaseError, match="no draft order"):
        request_from_bundle(bundle, None)
    with pytest.raises(CaseError, match="not JSON"):
        parse_pasted("{nope")


def test_quick_edits_change_the_record_only_in_a_copy() -> None:
    request = _request("02-meets-mixed-chimerism-cml")
    edited = apply_edits(request, Edits(chimerism=10, smoking="current", priority="stat"), NOW)
    assert '"value": 72' in json.dumps(request)
    text = json.dumps(edited)
    assert '"value": 72' not in text and '"value": 10' in text and "449868002" in text
    assert edited["context"]["draftOrders"]["entry"][0]["resource"]["priority"] == "stat"
    assert Edits.parse({"chimerism": "150", "smoking": "bogus"}) == Edits(chimerism=100.0)
    with pytest.raises(CaseError):
        Edits.parse({"chimerism": "lots"})


def test_server_and_token_are_dropped() -> None:
    request, notes = without_server({"fhirServer": "https://ehr", "fhirAuthorization": {"access_token": "t"}, "x": 1})
    assert request == {"x": 1} and len(notes) == 2


def test_form_answers_become_a_completed_response() -> None:
    questionnaire = json.loads((ROOT / "cql" / "questionnaire" / "dli-cp-mp-101.json").read_text())
    form = {"q-allogeneic-hsct": "true", "q-able-to-adhere": "false", "q-acute-gvhd-grade": "3",
            "q-donor-chimerism-percent": "", "q-lymphocytes-manipulated": ""}
    qr = response_from_form(questionnaire, form, patient_id="p", questionnaire_url="u", now=NOW)
    answers = {i["linkId"]: i["answer"][0] for g in qr["item"] for i in g["item"]}
    assert answers == {"allogeneic-hsct": {"valueBoolean": True}, "able-to-adhere": {"valueBoolean": False},
                       "acute-gvhd-grade": {"valueInteger": 3}}
    assert qr["status"] == "completed" and [g["linkId"] for g in qr["item"]] == ["indication", "contraindications"]
    with pytest.raises(ValueError, match="acute-gvhd-grade"):
        response_from_form(questionnaire, {"q-acute-gvhd-grade": "x"}, patient_id="p", questionnaire_url="u", now=NOW)
    request = with_response(_request("33-questionnaire-closes-hsct-loop"), qr)
    assert [e["resource"]["id"] for e in request["prefetch"]["questionnaireResponses"]["entry"]] == ["qr-1", "workbench-form"]


QUESTIONNAIRE_URL = "http://127.0.0.1:8080/fhir/Questionnaire/dli-cp-mp-101"


def _case_now(name: str) -> dt.datetime:
    case = json.loads((EXAMPLES / name / "case.json").read_text())
    return dt.datetime.fromisoformat(case["now"]) if "now" in case else NOW


@pytest.fixture(scope="module")
def prepopulation() -> FormPrepopulation:
    return FormPrepopulation(ROOT / "cql")


@pytest.mark.parametrize("name", ["05-no-indication-recorded", "23-current-smoker", "33-questionnaire-closes-hsct-loop"])
def test_form_prepopulation_is_dtr_prepopulate(prepopulation: FormPrepopulation, name: str) -> None:
    """The form's draft is the one ``dli-cds dtr prepopulate`` prints for the same record."""
    from cds.dtr.cli import _prepopulate

    now = _case_now(name)
    served = json.loads((ROOT / "cql" / "questionnaire" / "dli-cp-mp-101.json").read_text())
    served["url"] = QUESTIONNAIRE_URL
    ours = prepopulation.draft(served, _request(name), now)
    theirs = _prepopulate(_request(name), now, "http://127.0.0.1:8080")
    assert ours["item"] == theirs["item"] and ours["item"]
    assert ours["questionnaire"] == theirs["questionnaire"]


def test_prefilled_form_and_the_answers_origins(prepopulation: FormPrepopulation) -> None:
    questionnaire = json.loads((ROOT / "cql" / "questionnaire" / "dli-cp-mp-101.json").read_text())
    served = {**questionnaire, "url": QUESTIONNAIRE_URL}
    prefill = Prefill.of_response(prepopulation.draft(served, _request("23-current-smoker"), _case_now("23-current-smoker")))
    assert prefill.values["current-substance-use"] is True and prefill.values["donor-chimerism-percent"] == 95
    assert set(prefill.origins.values()) == {"auto-server"}
    assert "risk-reduction-commitment" not in prefill.values  # disabled: urgent-timeline is false
    html = form_html(questionnaire, prefill)
    assert 'name="q-current-substance-use" value="true" checked' in html
    assert 'name="q-donor-chimerism-percent" value="95"' in html
    assert html.count('data-origin="auto-server"') == len(prefill.values)
    assert html.count('data-origin="clinician"') == 12 - len(prefill.values)
    form = {"q-allogeneic-hsct": "true", "q-donor-chimerism-percent": "95", "q-current-substance-use": "false",
            "q-risk-reduction-evidence": "false", "q-lymphocytes-manipulated": "false", "q-able-to-adhere": ""}
    form["q-transplant-indication-malignant"] = "true"
    qr = response_from_form(questionnaire, form, patient_id="p", questionnaire_url="u", now=NOW, prefill=prefill)
    origins = {i["linkId"]: i["answer"][0]["extension"][0]["extension"][0]["valueCode"] for g in qr["item"] for i in g["item"]}
    assert origins == {
        "allogeneic-hsct": "auto-server", "transplant-indication-malignant": "auto-server",
        "donor-chimerism-percent": "auto-server", "current-substance-use": "override",
        "lymphocytes-manipulated": "auto-server",
    }  # risk-reduction-evidence is disabled once substance use is answered No; able-to-adhere unanswered
    empty = Prefill.of_response(prepopulation.draft(served, _request("05-no-indication-recorded"), NOW))
    assert "transplant-indication-malignant" not in empty.values
    qr = response_from_form(questionnaire, {"q-transplant-indication-malignant": "true"}, patient_id="p",
                            questionnaire_url="u", now=NOW, prefill=empty)
    assert qr["item"][0]["item"][0]["answer"][0]["extension"][0]["extension"][0]["valueCode"] == "manual"


def test_activity_statistics() -> None:
    assert activity.percentile([], 0.5) == 0.0
    assert activity.percentile([1, 2, 3, 4], 0.5) == 2.5
    decided = {"outcome": "documentation-needed", "criteria": {"I": "met", "I.A": "unknown", "I.B": "not-met"}}
    row = {"endpoint": "order-sign", "status": 200, "criteria": json.dumps([decided, decided])}
    counted = activity.criteria_counts([row])
    assert counted.counts == {("I.A", "unknown"): 2, ("I.B", "not met"): 2}
    # The card's text is not read: a row without the column is "not recorded", whatever it says.
    detail = (EXAMPLES / "05-no-indication-recorded" / "expected.json").read_text()
    old = {"endpoint": "order-sign", "status": 200, "criteria": None, "response": detail}
    assert activity.criteria_counts([old]).counts == {} and activity.criteria_counts([old]).not_recorded == 1
    f = activity.Filters.parse({"since": "2026-11-01", "until": "bad", "outcome": "<x>", "patient": " p "})
    assert (f.since, f.until, f.outcome, f.patient_id) == (dt.date(2026, 11, 1), None, "", "p")
    assert f.query() == "since=2026-11-01&patient=p"


def test_assets_ship_in_the_package() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    for name in ASSETS:
        assert (STATIC / name).is_file()
        assert any(Path(name).match(g) for g in globs), f"{name} is not package data"
    css = (STATIC / "workbench.css").read_text() + (STATIC / "workbench.js").read_text()
    assert "http://" not in css.replace("http://www.w3.org", "") and "https://" not in css  # nothing from the network


def test_the_html_check_can_fail() -> None:
    from tests.workbench.browser import html_errors

    assert html_errors("<!doctype html><html lang=en><head><title>t</title></head><body><p>x</p></body></html>") == []
    assert html_errors("<!doctype html><title>t</title><table><p>x</p></table></b>")
