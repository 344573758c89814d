"""The DTR prepopulation library (``cql/DLIPrepopulation.cql``) checked by our engine AND the
reference stack: OUR ELM of it (and of the policy library it includes) runs in cql-execution +
cql-exec-fhir, as a DTR app runs it, and every define equals our engine's value on every
``fhir-examples`` record. Skipped with a message when node or the oracle's install is absent."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cds.cql.api import library_elm, load_library
from cds.cql.result_json import to_json
from cds.cql.terminology.folder import FolderTerminology
from tests.cql.elm.test_elm_differential import CASES, NOW, QUESTIONNAIRE_URL, SPEC_DIR, node_or_skip
from tests.oracle.generate_fhirhelpers import generate
from tests.oracle.test_oracle import _normalise, _records, _same, run_cases

ROOT = Path(__file__).resolve().parents[2]
CQL = ROOT / "cql"
RUNNER = ROOT / "tests" / "cql" / "elm" / "run_elm.mjs"
ITEM_DEFINES = {
    "Allogeneic HSCT",
    "Malignant Transplant Indication",
    "Acute GvHD Grade",
    "Donor Chimerism Percent",
    "Uncontrolled Resistant Infection",
    "Able To Adhere",
    "Adequate Social Support",
    "Current Substance Use",
    "Risk Reduction Evidence",
    "Urgent Timeline",
    "Risk Reduction Commitment",
    "Lymphocytes Manipulated",
}


@pytest.fixture(scope="module")
def elm_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, Any]]]:
    node = node_or_skip()
    if not (SPEC_DIR / "fhir-modelinfo-4.0.1.xml").is_file():
        pytest.skip(f"FHIR model info not found in {SPEC_DIR} (set CQL_SPEC_DIR)")
    work = tmp_path_factory.mktemp("prepopulation-elm")
    helpers_cql = work / "FHIRHelpers-4.0.1.cql"
    helpers_cql.write_text(generate(SPEC_DIR / "fhir-modelinfo-4.0.1.xml"))
    files = {
        "prepopulation": library_elm(CQL / "DLIPrepopulation.cql", library_dirs=[CQL]),
        "policy": library_elm(CQL / "DLIMedicalNecessity.cql", library_dirs=[CQL]),
        "helpers": library_elm(helpers_cql),
    }
    for name, elm in files.items():
        (work / f"{name}.json").write_text(json.dumps(elm))
    return run_cases(
        [
            node,
            str(RUNNER),
            str(work / "prepopulation.json"),
            f"{work / 'policy.json'},{work / 'helpers.json'}",
            str(CQL / "valuesets"),
            NOW,
            QUESTIONNAIRE_URL,
        ],
        CASES,
    )


@pytest.fixture(scope="module")
def our_library() -> Any:
    return load_library(
        CQL / "DLIPrepopulation.cql", library_dirs=[CQL], terminology=FolderTerminology(CQL / "valuesets")
    )


def test_one_define_per_answerable_item(our_library: Any) -> None:
    assert ITEM_DEFINES <= set(our_library.expression_names)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_prepopulation_elm_in_cql_execution_equals_our_engine(
    case: Path, elm_results: dict[str, Any], our_library: Any
) -> None:
    request = json.loads((case / "request.json").read_text())
    orders = [
        e["resource"]
        for e in request["context"]["draftOrders"].get("entry", [])
        if e["resource"]["resourceType"] == "ServiceRequest"
    ]
    now = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
    mismatches = []
    for order in orders:
        result = our_library.evaluate(
            _records(request),
            parameters={"Order": order, "Draft Orders": orders, "Questionnaire URL": QUESTIONNAIRE_URL},
            now=now,
        )
        theirs_all = elm_results[case.name][f"ServiceRequest/{order['id']}"]
        assert ITEM_DEFINES <= set(theirs_all)
        for name in ITEM_DEFINES:
            ours = _normalise(to_json(result[name]))
            theirs = _normalise(theirs_all[name])
            if not _same(ours, theirs):
                mismatches.append(f"{order['id']} {name!r}: engine {ours!r} != ELM {theirs!r}")
    assert not mismatches, "\n".join(mismatches[:40])
