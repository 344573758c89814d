"""The workbench pages over HTTP: on in the quick start, absent when disabled or with auth
required, each example's page shows the outcomes the service decides, text is escaped."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from cds.app import create_app
from tests.conftest import NOW, Client, make_settings

EXAMPLES = Path(__file__).resolve().parents[2] / "fhir-examples"
CASES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "case.json").is_file())


@pytest.fixture
def client_factory(tmp_path: Path) -> Iterator[Callable[..., Client]]:
    apps: list[Any] = []

    def make(**overrides: Any) -> Client:
        app = create_app(make_settings(tmp_path, **overrides), clock=lambda: NOW)
        apps.append(app)
        return Client(app)

    yield make
    for app in apps:
        app.state.database.close()


PAGES = ["/workbench/", "/workbench/activity", f"/workbench/examples/{CASES[0]}", "/workbench/try",
         f"/workbench/try?example={CASES[0]}", "/workbench/form", "/workbench/policy",
         "/workbench/activity/call?id=1&hookInstance=x", "/workbench/static/workbench.css"]
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("overrides", [{"workbench": False}, {"auth_mode": "required"}])
def test_absent_when_disabled(client_factory: Any, path: str, overrides: dict[str, Any]) -> None:
    response = client_factory(**overrides).get(path)
    assert response.status_code == 404


def test_index_lists_every_example(client: Client) -> None:
    page = client.get("/workbench/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for name in CASES:
        assert f'href="/workbench/try?example={name}"' in page.text


@pytest.mark.parametrize("name", CASES)
def test_example_shows_decided_outcomes(client: Client, name: str) -> None:
    outcomes = json.loads((EXAMPLES / name / "case.json").read_text())["outcomes"]
    page = client.get(f"/workbench/examples/{name}")
    assert page.status_code == 200
    for order, outcome in outcomes.items():
        assert f"<td>{order}</td><td>{outcome}</td>" in page.text


def test_unknown_example_is_404(client: Client) -> None:
    assert client.get("/workbench/examples/..%2Fcds").status_code == 404
    assert client.get("/workbench/examples/nope").status_code == 404


def test_script_in_display_text_renders_as_text(tmp_path: Path, client_factory: Any) -> None:
    folder = tmp_path / "examples" / "evil"
    shutil.copytree(EXAMPLES / CASES[0], folder)
    request = json.loads((folder / "request.json").read_text())
    payload = "<script>alert(1)</script>"
    for order in request["context"]["draftOrders"]["entry"]:
        coding = order["resource"].setdefault("code", {}).setdefault("coding", [{}])
        coding[0]["display"] = payload
        order["resource"]["code"]["text"] = payload
    (folder / "request.json").write_text(json.dumps(request))
    page = client_factory(examples_dir=tmp_path / "examples").get("/workbench/examples/evil")
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_activity_shows_no_secret(client: Client) -> None:
    request = json.loads((EXAMPLES / CASES[0] / "request.json").read_text())
    client.post(
        "/cds-services/dli-order-sign", json=request, headers={"Authorization": "Bearer SECRET-TOKEN"}
    )
    page = client.get("/workbench/activity")
    assert page.status_code == 200
    assert "SECRET-TOKEN" not in page.text
    assert "order-sign" in page.text
    assert '"resourceType"' not in page.text and "&quot;resourceType&quot;" not in page.text


def _outcomes(html: str) -> list[str]:
    return re.findall(r'data-outcome="([^"]+)"', html)


def test_pasted_bundle_runs_and_the_link_reproduces_it(client: Client) -> None:
    request = json.loads((EXAMPLES / CASES[0] / "request.json").read_text())
    record = [e["resource"] for v in request["prefetch"].values() if v for e in v.get("entry", [{"resource": v}])]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in record]}
    order = request["context"]["draftOrders"]["entry"][0]["resource"]
    form = urlencode({"example": "", "request": json.dumps(bundle), "order": json.dumps(order), "chimerism": "0"})
    answer = client.post("/workbench/try", content=form, headers=FORM)
    assert answer.status_code == 303
    link = answer.headers["location"]
    assert re.fullmatch(r"/workbench/try\?case=[0-9a-f]{20}&chimerism=0", link)
    page = client.get(link)
    assert _outcomes(page.text) == ["not-medically-necessary"]
    assert 'data-criterion="II.D" data-status="not-met"' in page.text
    assert f'href="{link.replace("&", "&amp;")}"' in page.text


def test_bad_paste_is_a_400_page_saying_why(client: Client) -> None:
    answer = client.post("/workbench/try", content=urlencode({"request": "{nope"}), headers=FORM)
    assert answer.status_code == 400 and "not JSON" in answer.text
    answer = client.post("/workbench/try", content=urlencode({"request": '{"context": {}}'}), headers=FORM)
    assert answer.status_code == 303
    page = client.get(answer.headers["location"])
    assert page.status_code == 200 and 'role="alert"' in page.text and "refused" in page.text
    assert client.get("/workbench/try?case=0123").status_code == 404
    assert client.get(f"/workbench/try?example={CASES[0]}&chimerism=x").status_code == 400


def test_form_adds_the_response_and_reruns(client: Client) -> None:
    form = urlencode({"example": "05-no-indication-recorded", "q-transplant-indication-malignant": "true"})
    answer = client.post("/workbench/form", content=form, headers=FORM)
    assert answer.status_code == 303
    page = client.get(answer.headers["location"])
    assert _outcomes(page.text) == ["meets-criteria"]
    assert "QuestionnaireResponse/workbench-form" in page.text


@pytest.mark.parametrize("name", ["05-no-indication-recorded", "23-current-smoker", "29-no-smoking-status"])
def test_form_page_is_prepopulated_from_the_record(client: Client, name: str) -> None:
    page = client.get(f"/workbench/form?example={name}").text
    prefilled = re.findall(r'data-origin="auto-server"', page)
    asked = re.findall(r'data-origin="clinician"', page)
    assert prefilled and asked and len(prefilled) + len(asked) == 12
    assert f"{len(prefilled)} of 12 answers were prepopulated" in page
    assert f'<input type="hidden" name="example" value="{name}">' in page


def test_form_on_a_record_without_an_order_prepopulates_nothing(client: Client) -> None:
    request = json.loads((EXAMPLES / CASES[0] / "request.json").read_text())
    request["context"]["draftOrders"]["entry"] = []
    answer = client.post("/workbench/try", content=urlencode({"request": json.dumps(request)}), headers=FORM)
    case = answer.headers["location"].split("case=")[1]
    page = client.get(f"/workbench/form?case={case}")
    assert page.status_code == 200 and "Nothing was prepopulated" in page.text
    assert 'data-origin="auto-server"' not in page.text


def test_form_on_a_record_the_library_cannot_run_on_says_so(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from cds.cql.errors import CqlRuntimeError
    from cds.dtr.prepopulation import Prepopulator

    def fails(*_args: Any, **_kwargs: Any) -> None:
        raise CqlRuntimeError("Singleton from a list of 2 <elements>")

    monkeypatch.setattr(Prepopulator, "values", fails)
    page = client.get(f"/workbench/form?example={CASES[0]}")
    assert page.status_code == 200 and "Nothing was prepopulated" in page.text
    assert "could not run on this record: Singleton from a list of 2 &lt;elements&gt;" in page.text
    answer = client.post("/workbench/form", content=urlencode({"example": CASES[0], "q-allogeneic-hsct": "true"}),
                         headers=FORM)
    assert answer.status_code == 303  # answering still works; the answer's origin is the clinician's
    page = client.get(answer.headers["location"]).text
    assert "&quot;valueCode&quot;: &quot;manual&quot;" in page


@pytest.mark.parametrize(
    ("hook", "summary", "doc_needed"),
    [("order-sign", "documentation needed for CP.MP.101", True),
     ("order-select", "documentation will be needed at signing", False),
     ("order-dispatch", "documentation needed for CP.MP.101", True)],
)
def test_each_hook_answers(client: Client, hook: str, summary: str, doc_needed: bool) -> None:
    form = urlencode({"example": "05-no-indication-recorded", "hook": hook})
    answer = client.post("/workbench/try", content=form, headers=FORM)
    link = answer.headers["location"]
    assert link == "/workbench/try?example=05-no-indication-recorded" + ("" if hook == "order-sign" else f"&hook={hook}")
    page = client.get(link).text
    assert f'data-hook="{hook}"' in page and f'name="hook" value="{hook}" checked' in page
    assert _outcomes(page) == ["documentation-needed"]
    assert summary in page
    assert ("doc-needed" in page) is doc_needed and ("withpa" in page) is doc_needed
    if hook == "order-dispatch":
        assert "dispatchedOrders" in page and "draftOrders" not in page.split("request's context")[1].split("</details>")[0]
    if hook == "order-select":
        assert "selections" in page


def test_policy_page_anchors_every_define(client: Client) -> None:
    page = client.get("/workbench/policy").text
    assert 'id="define-i-c-4-status"' in page and 'id="define-outcome"' in page
    trace = client.get(f"/workbench/try?example={CASES[0]}").text
    for anchor in set(re.findall(r'href="/workbench/policy#([^"]+)"', trace)):
        assert f'id="{anchor}"' in page


def test_activity_filters_and_call_page(client: Client) -> None:
    for name in CASES[:6]:
        body = json.loads((EXAMPLES / name / "request.json").read_text())
        body["fhirAuthorization"] = {"access_token": "SECRET-TOKEN", "token_type": "Bearer",
                                     "expires_in": 300, "scope": "patient/*.read", "subject": "x"}
        client.post("/cds-services/dli-order-sign", json=body)
    page = client.get("/workbench/activity?outcome=documentation-needed").text
    assert page.count('<a href="/workbench/activity/call?') == sum(
        "documentation-needed" in json.loads((EXAMPLES / n / "case.json").read_text())["outcomes"].values()
        for n in CASES[:6]
    )
    assert page.count("<svg") == 4
    link = re.findall(r'href="(/workbench/activity/call\?[^"]+)"', client.get("/workbench/activity").text)[0]
    call = client.get(link.replace("&amp;", "&"))
    assert call.status_code == 200 and "SECRET-TOKEN" not in call.text and '<article class="card' in call.text
    assert "&quot;resourceType&quot;" not in call.text
    assert client.get("/workbench/activity/call?id=1&hookInstance=other").status_code == 404
    assert client.get("/workbench/activity/call?id=x").status_code == 404


def test_static_assets_only_by_name(client: Client) -> None:
    assert client.get("/workbench/static/workbench.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/workbench/static/..%2Froutes.py").status_code == 404
    assert client.get("/workbench/static/routes.py").status_code == 404


def test_unchanged_example_record_runs_the_picked_example(client: Client) -> None:
    first = json.loads((EXAMPLES / CASES[0] / "request.json").read_text())
    form = urlencode({"example": CASES[1], "request": json.dumps(first), "smoking": "current"})
    answer = client.post("/workbench/try", content=form, headers=FORM)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/workbench/try?example={CASES[1]}&smoking=current"


def test_workbench_reads_no_fhir_server(client: Client) -> None:
    request = json.loads((EXAMPLES / CASES[0] / "request.json").read_text())
    del request["prefetch"]["conditions"]
    request["fhirServer"] = "http://127.0.0.1:9/fhir"  # nothing listens there; never called
    answer = client.post("/workbench/try", content=urlencode({"request": json.dumps(request)}), headers=FORM)
    page = client.get(answer.headers["location"]).text
    assert "reads no FHIR server" in page
    assert "is missing conditions and no fhirServer was given" in page
    assert "access_token" not in page
