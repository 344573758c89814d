"""The workbench in headless Chromium: every view loads without console errors, passes axe-core
with no serious violation and parses as valid HTML; three examples run through the page show
their outcome, criteria and evidence; an edit changes the outcome; the form re-runs the
decision; activity charts follow a burst of calls; request content is shown as text; no secret
reaches a page. Screenshots: tests/workbench/artifacts/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cds.app import create_app
from tests.conftest import make_settings
from tests.workbench import browser

EXAMPLES = Path(__file__).resolve().parents[2] / "fhir-examples"
VIEWS = ["/workbench/", "/workbench/try", "/workbench/try?example=05-no-indication-recorded",
         "/workbench/form", "/workbench/policy", "/workbench/activity"]
THREE = ["01-meets-aml-relapse-prevention", "05-no-indication-recorded", "23-current-smoker"]
SECRET = "SECRET-ACCESS-TOKEN-4711"

pytestmark = pytest.mark.skipif(browser.missing() is not None, reason=str(browser.missing()))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    application = create_app(make_settings(tmp_path_factory.mktemp("browser")))
    yield application
    application.state.database.close()


@pytest.fixture(scope="module")
def base_url(app: Any) -> Iterator[str]:
    with browser.serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    d = browser.chromium()
    yield d
    d.quit()


@pytest.fixture(autouse=True)
def no_console_errors(driver: Any) -> Iterator[None]:
    driver.get_log("browser")  # drop what earlier tests left
    yield
    assert browser.console_errors(driver) == []


def request_of(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name / "request.json").read_text())
    return data


def expected(name: str) -> dict[str, str]:
    outcomes: dict[str, str] = json.loads((EXAMPLES / name / "case.json").read_text())["outcomes"]
    return outcomes


def outcome_shown(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.get_attribute("data-outcome") for e in driver.find_elements(By.CSS_SELECTOR, "[data-outcome]")]


def submit(driver: Any, css: str = "form.case button[type=submit]") -> None:
    """Click a submit button and wait for the next page to replace this one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, css).click()

    def replaced(_driver: Any) -> bool:
        # Chromium reports the old page's node either as stale or, while the next document is
        # being committed, as "Node with given id does not belong to the document": both mean gone.
        try:
            return bool(expected_conditions.staleness_of(old)(_driver))
        except WebDriverException:
            return True

    WebDriverWait(driver, 20).until(replaced)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def run_example_in_page(driver: Any, base_url: str, name: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    driver.get(f"{base_url}/workbench/try")
    Select(driver.find_element(By.ID, "example")).select_by_value(name)
    driver.find_element(By.ID, "request").clear()  # run the example as it is
    submit(driver)


@pytest.mark.parametrize("path", VIEWS)
def test_view_loads_accessible_and_valid(driver: Any, base_url: str, path: str) -> None:
    driver.get(base_url + path)
    assert driver.find_element("tag name", "h1").text
    if path.startswith("/workbench/try"):  # the script ran: the file picker is shown
        assert driver.find_element("id", "upload").is_displayed()
    name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "index"
    browser.screenshot(driver, name)
    violations = browser.axe_violations(driver)
    assert violations == [], [(v["id"], v.get("help")) for v in violations]
    raw = httpx.get(base_url + path).text
    assert browser.html_errors(raw) == []


@pytest.mark.parametrize("name", THREE)
def test_example_through_the_page(driver: Any, base_url: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    run_example_in_page(driver, base_url, name)
    assert outcome_shown(driver) == list(expected(name).values())
    rows = driver.find_elements(By.CSS_SELECTOR, "table.trace tbody tr")
    labels = [r.get_attribute("data-criterion") for r in rows]
    assert labels == ["I", "I.A", "I.B", "I.C.1", "I.C.2", "I.C.3", "I.C.4", "II.A", "II.B", "II.C", "II.D"]
    assert all(r.get_attribute("data-status") in ("met", "not-met", "unknown") for r in rows)
    evidence = driver.find_elements(By.CSS_SELECTOR, "table.trace details.resource")
    assert evidence, "some criterion shows its evidence"
    evidence[0].find_element(By.TAG_NAME, "summary").click()
    shown = json.loads(evidence[0].find_element(By.TAG_NAME, "pre").text)
    assert f"{shown['resourceType']}/{shown['id']}" == evidence[0].find_element(By.TAG_NAME, "summary").text
    assert driver.find_elements(By.CSS_SELECTOR, "article.card h3.summary")
    assert "coverage-assertion-id" in driver.find_element(By.CSS_SELECTOR, "table.coverage").text
    browser.screenshot(driver, f"try-{name}")
    violations = browser.axe_violations(driver)  # with a resource's JSON open
    assert violations == [], [(v["id"], v.get("help")) for v in violations]


def test_quick_edit_and_json_edit_change_the_outcome(driver: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By

    run_example_in_page(driver, base_url, "02-meets-mixed-chimerism-cml")
    assert outcome_shown(driver) == ["meets-criteria"]
    field = driver.find_element(By.ID, "chimerism")
    field.clear()
    field.send_keys("0")  # total host chimerism: II.D applies
    submit(driver)
    assert outcome_shown(driver) == ["not-medically-necessary"]
    assert "chimerism=0" in driver.find_element(By.ID, "permalink").get_attribute("href")
    failing = driver.find_element(By.CSS_SELECTOR, 'tr[data-criterion="II.D"]').get_attribute("data-status")
    assert failing == "not-met"
    # The link reproduces the case.
    driver.get(driver.find_element(By.ID, "permalink").get_attribute("href"))
    assert outcome_shown(driver) == ["not-medically-necessary"]
    # An edit of the record's JSON in the page: the never-smoker becomes a current smoker.
    run_example_in_page(driver, base_url, "01-meets-aml-relapse-prevention")
    area = driver.find_element(By.ID, "request")
    edited = area.get_attribute("value").replace('"266919005"', '"449868002"')
    driver.execute_script("arguments[0].value = arguments[1];", area, edited)
    submit(driver)
    assert outcome_shown(driver) == ["not-medically-necessary"]
    assert "case=" in driver.current_url
    status = driver.find_element(By.CSS_SELECTOR, 'tr[data-criterion="I.C.4"]').get_attribute("data-status")
    assert status == "not-met"
    browser.screenshot(driver, "try-edited")


# (example, the answer the clinician gives (or changes) and its origin before, outcome before and after)
FORM_CASES = [
    ("05-no-indication-recorded", ("transplant-indication-malignant", "true", "clinician"),
     "documentation-needed", "meets-criteria"),
    ("23-current-smoker", ("current-substance-use", "false", "auto-server"), "not-medically-necessary", "meets-criteria"),
    ("26-smoker-stat-without-commitment", ("risk-reduction-commitment", "true", "clinician"),
     "documentation-needed", "meets-criteria"),
]


def prepopulate_in_page(driver: Any, base_url: str, name: str) -> dict[str, str]:
    """Open the form, pick the example's record, and return each question's origin as shown."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    driver.get(f"{base_url}/workbench/form")
    Select(driver.find_element(By.ID, "example")).select_by_value(name)
    submit(driver, "form.record button[type=submit]")
    return {
        e.get_attribute("data-link-id"): e.find_element(By.CSS_SELECTOR, ".origin").get_attribute("data-origin")
        for e in driver.find_elements(By.CSS_SELECTOR, "[data-link-id]")
    }


@pytest.mark.parametrize(("name", "answer", "before", "after"), FORM_CASES)
def test_form_prepopulated_and_answering_reruns_the_decision(
    driver: Any, base_url: str, name: str, answer: tuple[str, str, str], before: str, after: str
) -> None:
    from selenium.webdriver.common.by import By

    origins = prepopulate_in_page(driver, base_url, name)
    link_id, value, origin_before = answer
    assert len(origins) == 12 and origins[link_id] == origin_before
    # Every prepopulated answer is the record's, shown as such; the others are left to the clinician.
    for question, origin in origins.items():
        field = driver.find_element(By.CSS_SELECTOR, f'[data-link-id="{question}"]')
        checked = field.find_elements(By.CSS_SELECTOR, "input[type=radio]:checked")
        shown = checked[0].get_attribute("value") if checked else None
        if field.find_elements(By.CSS_SELECTOR, "input[type=number]"):
            shown = field.find_element(By.CSS_SELECTOR, "input[type=number]").get_attribute("value")
        assert (shown not in ("", None)) is (origin == "auto-server"), question
    assert "from the record" in driver.find_element(By.CSS_SELECTOR, '.origin[data-origin="auto-server"]').text
    browser.screenshot(driver, f"form-{name}")
    violations = browser.axe_violations(driver)
    assert violations == [], [(v["id"], v.get("help")) for v in violations]
    if name == FORM_CASES[0][0]:  # submitted as prepopulated: the record's answers decide nothing new
        submit(driver, "form.questionnaire button[type=submit]")
        assert outcome_shown(driver) == [before]
        prepopulate_in_page(driver, base_url, name)
    follow_up = driver.find_element(By.CSS_SELECTOR, '[data-link-id="risk-reduction-evidence"]')
    assert follow_up.is_displayed() is (name != FORM_CASES[0][0])  # asked of substance users only
    driver.find_element(By.CSS_SELECTOR, f'input[name="q-{link_id}"][value="{value}"]').click()
    if link_id == "current-substance-use":  # answered No: the script hides the follow-up questions
        assert not follow_up.is_displayed()
    submit(driver, "form.questionnaire button[type=submit]")
    assert expected(name) == {"ServiceRequest/dli-1": before}
    assert outcome_shown(driver) == [after]
    evidence = driver.find_element(By.CSS_SELECTOR, "table.trace").text
    assert "QuestionnaireResponse/workbench-form" in evidence


@pytest.mark.parametrize("hook", ["order-sign", "order-select", "order-dispatch"])
def test_each_hook_choice_shows_its_answer(driver: Any, base_url: str, hook: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    driver.get(f"{base_url}/workbench/try")
    Select(driver.find_element(By.ID, "example")).select_by_value("05-no-indication-recorded")
    driver.find_element(By.ID, "request").clear()
    driver.find_element(By.CSS_SELECTOR, f'input[name="hook"][value="{hook}"]').click()
    submit(driver)
    assert driver.find_element(By.ID, "answered-as").get_attribute("data-hook") == hook
    assert outcome_shown(driver) == ["documentation-needed"]
    summary = driver.find_element(By.CSS_SELECTOR, "article.card h3.summary").text
    coverage = driver.find_element(By.CSS_SELECTOR, "table.coverage").text
    if hook == "order-select":  # guidance, without documentation requests
        assert "will be needed at signing" in summary
        assert "doc-needed" not in coverage and "questionnaire" not in coverage
    else:
        assert "documentation needed" in summary
        assert "doc-needed" in coverage
    driver.find_element(By.CSS_SELECTOR, "details.sent summary").click()
    context = json.loads(driver.find_element(By.CSS_SELECTOR, "details.sent pre").text)
    key = {"order-sign": "draftOrders", "order-select": "selections", "order-dispatch": "dispatchedOrders"}[hook]
    assert key in context
    assert (f"hook={hook}" in driver.find_element(By.ID, "permalink").get_attribute("href")) is (hook != "order-sign")
    browser.screenshot(driver, f"try-{hook}")
    violations = browser.axe_violations(driver)
    assert violations == [], [(v["id"], v.get("help")) for v in violations]


def test_activity_after_a_burst_of_calls(driver: Any, base_url: str, app: Any) -> None:
    from selenium.webdriver.common.by import By

    from cds.workbench.hook_choice import request_for

    names = ["01-meets-aml-relapse-prevention", "03-mixed-chimerism-without-malignancy", "05-no-indication-recorded"]
    hooks = {"order-sign": "dli-order-sign", "order-select": "dli-order-select", "order-dispatch": "dli-order-dispatch"}
    with httpx.Client(base_url=base_url) as client:
        for i in range(24):
            hook = list(hooks)[i // 3 % 3]
            body = request_for(hook, request_of(names[i % 3]))
            body["hookInstance"] = f"burst-{i}"
            client.post(f"/cds-services/{hooks[hook]}", json=body).raise_for_status()
        client.post("/cds-services/dli-order-sign", json={"hook": "order-sign"})  # a 400
    driver.get(f"{base_url}/workbench/activity")
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) == 4
    assert len(charts[0].find_elements(By.TAG_NAME, "rect")) >= 4  # outcome bars and legend
    page = driver.find_element(By.TAG_NAME, "main").text
    assert "I.A unknown" in page and "I.A not met" in page  # most frequent failing/unknown criteria
    assert page.count("burst-") >= 24
    # The criteria table is the audit rows' criteria column counted (not the cards' text).
    rows = [r for r in app.state.database.audit_rows(limit=500) if r["criteria"]]
    expected_counts: dict[tuple[str, str], int] = {}
    for row in rows:
        for decided in json.loads(row["criteria"]):
            for label, status in decided["criteria"].items():
                if status != "met":
                    key = (label, status.replace("-", " "))
                    expected_counts[key] = expected_counts.get(key, 0) + 1
    shown = {
        (cells[0].text, cells[1].text): int(cells[2].text)
        for cells in (
            r.find_elements(By.TAG_NAME, "td")
            for r in driver.find_elements(By.CSS_SELECTOR, "table.criteria tbody tr")
        )
    }
    top = sorted(expected_counts.items(), key=lambda kv: -kv[1])[: len(shown)]
    assert shown and all(expected_counts[k] == n for k, n in shown.items()) and min(shown.values()) >= top[-1][1]
    assert shown[("I.A", "unknown")] >= 8 and shown[("I.A", "not met")] >= 8
    browser.screenshot(driver, "activity")
    driver.get(f"{base_url}/workbench/activity?outcome=not-medically-necessary")
    rows = driver.find_elements(By.CSS_SELECTOR, "main > table:last-of-type tbody tr")
    assert len(rows) == 8
    submit(driver, "main > table:last-of-type tbody tr a")
    summary = driver.find_element(By.CSS_SELECTOR, "article.card h3.summary").text
    assert "not medically necessary" in summary
    assert browser.axe_violations(driver) == []  # the call page too
    assert "not-medically-necessary" in driver.find_element(By.TAG_NAME, "dl").text


def test_screenshot_for_the_docs(driver: Any, base_url: str) -> None:
    """The README's picture (docs/workbench.png is a copy of this artefact): a tall window on
    the form prepopulated from an example's record, each answer's origin beside it."""
    driver.set_window_size(1280, 1200)
    try:
        driver.get(f"{base_url}/workbench/form?example=05-no-indication-recorded")
        assert driver.find_elements("css selector", '.origin[data-origin="auto-server"]')
        assert driver.find_elements("css selector", '.origin[data-origin="clinician"]')
        browser.screenshot(driver, "docs-workbench")
    finally:
        driver.set_window_size(1366, 900)


def test_script_in_record_renders_as_text(driver: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By

    body = request_of("01-meets-aml-relapse-prevention")
    payload = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">"
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["code"]["text"] = payload
    for entry in body["prefetch"]["conditions"]["entry"]:
        entry["resource"]["code"]["text"] = payload
    driver.get(f"{base_url}/workbench/try")
    area = driver.find_element(By.ID, "request")
    driver.execute_script("arguments[0].value = arguments[1];", area, json.dumps(body))
    submit(driver)
    assert outcome_shown(driver) == ["meets-criteria"]
    assert driver.execute_script("return window.pwned === undefined")
    assert "<script>window.pwned=1</script>" in driver.find_element(By.CSS_SELECTOR, "article.card").text
    assert driver.find_elements(By.CSS_SELECTOR, "main script") == []


def test_no_secret_in_any_page(driver: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By

    body = request_of("01-meets-aml-relapse-prevention")
    body["fhirAuthorization"]["access_token"] = SECRET
    body["hookInstance"] = "secret-check"
    httpx.post(f"{base_url}/cds-services/dli-order-sign", json=body,
               headers={"Authorization": f"Bearer {SECRET}"}).raise_for_status()
    driver.get(f"{base_url}/workbench/try")
    area = driver.find_element(By.ID, "request")
    driver.execute_script("arguments[0].value = arguments[1];", area, json.dumps(body))
    submit(driver)
    pages = [driver.current_url, *(base_url + p for p in VIEWS),
             f"{base_url}/workbench/activity?hookInstance=secret-check"]
    for url in pages:
        driver.get(url)
        assert SECRET not in driver.page_source, url
    driver.get(f"{base_url}/workbench/activity?hookInstance=secret-check")
    submit(driver, "main > table:last-of-type tbody tr a")
    assert SECRET not in driver.page_source
    assert '"resourceType"' not in driver.find_element(By.TAG_NAME, "main").text


def test_read_only_views_work_with_javascript_off(base_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    driver = browser.chromium(javascript=False)
    try:
        driver.get(f"{base_url}/workbench/try")
        # The page's script did not run: it would have shown the file picker.
        assert driver.find_element(By.ID, "upload").is_displayed() is False
        Select(driver.find_element(By.ID, "example")).select_by_value("23-current-smoker")
        driver.find_element(By.ID, "request").clear()
        submit(driver)
        assert outcome_shown(driver) == list(expected("23-current-smoker").values())
        assert len(driver.find_elements(By.CSS_SELECTOR, "table.trace tbody tr")) == 11
        details = driver.find_elements(By.CSS_SELECTOR, "table.trace details.resource")[0]
        details.find_element(By.TAG_NAME, "summary").click()
        assert '"resourceType"' in details.find_element(By.TAG_NAME, "pre").text
        for path in VIEWS:
            driver.get(base_url + path)
            assert driver.find_element(By.TAG_NAME, "h1").text
        # The form: picked, prepopulated and answered without script.
        assert prepopulate_in_page(driver, base_url, "29-no-smoking-status")["current-substance-use"] == "clinician"
        assert driver.find_element(By.CSS_SELECTOR, '[data-link-id="risk-reduction-commitment"]').is_displayed()
        driver.find_element(By.CSS_SELECTOR, 'input[name="q-current-substance-use"][value="false"]').click()
        submit(driver, "form.questionnaire button[type=submit]")
        assert outcome_shown(driver) == ["meets-criteria"]
        driver.get(f"{base_url}/workbench/try?example=05-no-indication-recorded&hook=order-select")
        assert driver.find_element(By.ID, "answered-as").get_attribute("data-hook") == "order-select"
        driver.get(f"{base_url}/workbench/policy#define-ii-d-status")
        assert driver.find_element(By.ID, "define-ii-d-status").is_displayed()
        browser.screenshot(driver, "no-javascript-policy")
    finally:
        driver.quit()
