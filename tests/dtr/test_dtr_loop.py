"""The CRD -> DTR -> CRD loop, as a DTR app runs it, for every documentation-needed example and
the DTR scenarios below: request the questionnaire package for the order, run the package's
Library ELM in the reference engine (cql-execution + cql-exec-fhir) on the record, fill the
QuestionnaireResponse from the items' initialExpressions (respecting enableWhen), add what the
clinician answers, send it back with the order-sign, and check the new outcome. Our engine's
prepopulation (``cds.dtr.prepopulation.Prepopulator``) must give the same answers.

Skipped with a message when node or the oracle's install (tests/oracle/install.sh) is absent.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cds.dtr.prepopulation import Prepopulator, fill, initial_define, items
from tests.conftest import Client
from tests.cql.elm.test_elm_differential import NOW, QUESTIONNAIRE_URL, SPEC_DIR, node_or_skip
from tests.oracle.generate_fhirhelpers import generate
from tests.oracle.test_oracle import _records

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "fhir-examples"
RUNNER = ROOT / "tests" / "cql" / "elm" / "run_elm.mjs"
COVERAGE_ID = "cov-dtr"

#: (case, what the clinician answers after prepopulation, the outcome of the next order-sign).
#: Every documentation-needed example is here with no answers (prepopulation alone settles
#: nothing the record did not), and with the answers that settle it, one way and the other.
SCENARIOS: list[tuple[str, dict[str, Any], str]] = [
    # every enabled item prepopulated from the record
    ("01-meets-aml-relapse-prevention", {}, "meets-criteria"),
    ("23-current-smoker", {}, "not-medically-necessary"),
    ("24-smoker-with-cessation-goal", {}, "meets-criteria"),
    ("09-acute-gvhd-grade-3-stage-summary", {}, "not-medically-necessary"),
    # some items prepopulated: documentation is still needed without the clinician
    ("05-no-indication-recorded", {}, "documentation-needed"),
    ("07-transplant-status-only", {}, "documentation-needed"),
    ("12-acute-gvhd-no-grade", {}, "documentation-needed"),
    ("13-gvhd-unspecified-type", {}, "documentation-needed"),
    ("26-smoker-stat-without-commitment", {}, "documentation-needed"),
    ("29-no-smoking-status", {}, "documentation-needed"),
    ("30-smoking-status-unknown", {}, "documentation-needed"),
    ("41-crd-2-0-1-documentation-needed", {}, "documentation-needed"),
    ("45-cards-turned-off", {}, "documentation-needed"),
    ("47-unreadable-latest-chimerism", {}, "documentation-needed"),
    ("49-straddling-grade-range", {}, "documentation-needed"),
    # the clinician's answers flip the outcome
    ("05-no-indication-recorded", {"transplant-indication-malignant": True}, "meets-criteria"),
    ("05-no-indication-recorded", {"transplant-indication-malignant": False}, "not-medically-necessary"),
    ("07-transplant-status-only", {"allogeneic-hsct": True}, "meets-criteria"),
    ("07-transplant-status-only", {"allogeneic-hsct": False}, "not-medically-necessary"),
    ("12-acute-gvhd-no-grade", {"acute-gvhd-grade": 1}, "meets-criteria"),
    ("12-acute-gvhd-no-grade", {"acute-gvhd-grade": 3}, "not-medically-necessary"),
    ("13-gvhd-unspecified-type", {"acute-gvhd-grade": 4}, "not-medically-necessary"),
    ("26-smoker-stat-without-commitment", {"risk-reduction-commitment": True}, "meets-criteria"),
    ("26-smoker-stat-without-commitment", {"risk-reduction-commitment": False}, "not-medically-necessary"),
    ("29-no-smoking-status", {"current-substance-use": False}, "meets-criteria"),
    ("30-smoking-status-unknown", {"current-substance-use": True}, "not-medically-necessary"),
    ("41-crd-2-0-1-documentation-needed", {"acute-gvhd-grade": 2}, "meets-criteria"),
    ("45-cards-turned-off", {"current-substance-use": False}, "meets-criteria"),
    ("47-unreadable-latest-chimerism", {"donor-chimerism-percent": 95}, "meets-criteria"),
    ("47-unreadable-latest-chimerism", {"donor-chimerism-percent": 0}, "not-medically-necessary"),
    ("49-straddling-grade-range", {"acute-gvhd-grade": 2}, "meets-criteria"),
    ("49-straddling-grade-range", {"acute-gvhd-grade": 3}, "not-medically-necessary"),
]
CASES = sorted({s[0] for s in SCENARIOS})


def _documentation_needed_examples() -> set[str]:
    found = set()
    for case in EXAMPLES.glob("*/case.json"):
        if "documentation-needed" in json.loads(case.read_text())["outcomes"].values():
            found.add(case.parent.name)
    return found


def _orders(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in request["context"]["draftOrders"].get("entry", [])
        if e["resource"]["resourceType"] == "ServiceRequest"
    ]


def _coverage(request: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Coverage",
        "id": COVERAGE_ID,
        "status": "active",
        "beneficiary": {"reference": f"Patient/{request['context']['patientId']}"},
        "payor": [{"display": "Example Health Plan"}],
    }


def _package(client: Client, case: str) -> dict[str, Any]:
    request = json.loads((EXAMPLES / case / "request.json").read_text())
    body = {
        "resourceType": "Parameters",
        "parameter": [{"name": "coverage", "resource": _coverage(request)}]
        + [{"name": "order", "resource": o} for o in _orders(request)[:1]],
    }
    response = client.post("/fhir/Questionnaire/$questionnaire-package", json=body)
    assert response.status_code == 200, response.text
    packages = [p["resource"] for p in response.json()["parameter"] if p["name"] == "PackageBundle"]
    assert len(packages) == 1, response.text
    return packages[0]


def _content(library: dict[str, Any], content_type: str) -> str:
    data = next(c["data"] for c in library["content"] if c["contentType"] == content_type)
    return base64.b64decode(data).decode()


@pytest.fixture(scope="module")
def packages(client: Client) -> dict[str, dict[str, Any]]:
    return {case: _package(client, case) for case in CASES}


@pytest.fixture(scope="module")
def elm_values(
    packages: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Each case's define values from the package's ELM, run in cql-execution."""
    node = node_or_skip()
    if not (SPEC_DIR / "fhir-modelinfo-4.0.1.xml").is_file():
        pytest.skip(f"FHIR model info not found in {SPEC_DIR} (set CQL_SPEC_DIR)")
    work = tmp_path_factory.mktemp("dtr-package")
    (work / "valuesets").mkdir()
    package = packages[CASES[0]]
    resources = [e["resource"] for e in package["entry"]]
    libraries = [r for r in resources if r["resourceType"] == "Library"]
    for r in resources:
        if r["resourceType"] == "ValueSet":
            (work / "valuesets" / f"{r['id']}.json").write_text(json.dumps(r))
    for library in libraries:
        (work / f"{library['name']}.json").write_text(_content(library, "application/elm+json"))
    # FHIRHelpers is the client's own standard library (not in the package).
    helpers_cql = work / "FHIRHelpers-4.0.1.cql"
    helpers_cql.write_text(generate(SPEC_DIR / "fhir-modelinfo-4.0.1.xml"))
    from cds.cql.api import library_elm

    (work / "FHIRHelpers.json").write_text(json.dumps(library_elm(helpers_cql)))
    main, *included = [work / f"{lib['name']}.json" for lib in libraries]
    proc = subprocess.run(
        [
            node,
            str(RUNNER),
            str(main),
            ",".join(map(str, [*included, work / "FHIRHelpers.json"])),
            str(work / "valuesets"),
            NOW,
            QUESTIONNAIRE_URL,
            *(str(EXAMPLES / c) for c in CASES),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return {row["case"]: row["orders"] for row in map(json.loads, proc.stdout.splitlines()) if row}


def test_every_documentation_needed_example_is_a_scenario() -> None:
    assert _documentation_needed_examples() <= set(CASES)


def test_packages_carry_the_same_libraries(packages: dict[str, dict[str, Any]]) -> None:
    def libraries(p: dict[str, Any]) -> list[Any]:
        return [e["resource"] for e in p["entry"] if e["resource"]["resourceType"] == "Library"]

    first = libraries(packages[CASES[0]])
    assert first and all(libraries(p) == first for p in packages.values())


@pytest.mark.parametrize(
    ("case", "answers", "expected"), SCENARIOS, ids=[f"{c}-{a}" for c, a, _ in SCENARIOS]
)
def test_prepopulate_answer_and_sign_again(
    case: str,
    answers: dict[str, Any],
    expected: str,
    client: Client,
    packages: dict[str, dict[str, Any]],
    elm_values: dict[str, Any],
) -> None:
    request = json.loads((EXAMPLES / case / "request.json").read_text())
    order = _orders(request)[0]
    package = packages[case]
    questionnaire = package["entry"][0]["resource"]
    draft = package["entry"][1]["resource"]
    theirs = elm_values[case][f"ServiceRequest/{order['id']}"]
    # The DTR app: each item's initialExpression from the ELM run, then the clinician's answers.
    prepopulated = {
        item["linkId"]: theirs[define]
        for item in items(questionnaire["item"])
        if (define := initial_define(item)) is not None
    }
    # Our engine's prepopulation gives the same answers.
    ours = Prepopulator(ROOT / "cql").values(
        questionnaire,
        _records(request),
        order,
        _orders(request),
        dt.datetime.fromisoformat(NOW),
        QUESTIONNAIRE_URL,
    )
    assert {k: _plain(v) for k, v in ours.items()} == {k: _plain(v) for k, v in prepopulated.items()}
    response = copy.deepcopy(draft)
    response["id"] = "dtr-response"
    response["status"] = "completed"
    response["authored"] = "2026-11-24T09:00:00Z"
    response["item"] = fill(questionnaire, {**prepopulated, **answers}, "auto-client")
    signed = copy.deepcopy(request)
    prior = signed["prefetch"].get("questionnaireResponses") or {
        "resourceType": "Bundle",
        "type": "searchset",
    }
    prior.setdefault("entry", []).append({"resource": response})
    signed["prefetch"]["questionnaireResponses"] = prior
    result = client.post("/cds-services/dli-order-sign", json=signed)
    assert result.status_code == 200, result.text
    assert _outcome(result.json(), f"ServiceRequest/{order['id']}") == expected


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _outcome(response: dict[str, Any], ref: str) -> str:
    for action in response.get("systemActions", []):
        resource = action["resource"]
        if f"{resource['resourceType']}/{resource['id']}" != ref:
            continue
        ext = next(e for e in resource["extension"] if e["url"].endswith("ext-coverage-information"))
        subs = {e["url"]: e for e in ext["extension"]}
        if subs["covered"]["valueCode"] == "not-covered":
            return "not-medically-necessary"
        return "documentation-needed" if "doc-needed" in subs else "meets-criteria"
    raise AssertionError(f"no coverage information for {ref}: {json.dumps(response)[:800]}")
