"""Differential test of OUR ELM: the policy library translated by ``cds.cql.elm`` runs in the
reference engine (``cql-execution`` + ``cql-exec-fhir``, installed by ``tests/oracle/install.sh``)
on every ``fhir-examples`` case, and every public define must equal our engine's value.

FHIRHelpers for the reference engine is the oracle's generated library
(``tests/oracle/generate_fhirhelpers.py``), also translated by OUR writer. Skipped with a message
when node or the oracle's install is absent (the test set-up installs both).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from cds.cql.api import library_elm
from tests.oracle.generate_fhirhelpers import generate
from tests.oracle.test_oracle import _normalise, _records, _same, run_cases

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
ORACLE = ROOT / "tests" / "oracle"
SPEC_DIR = Path(os.environ.get("CQL_SPEC_DIR", str(ROOT.parent / "shared" / "cql-spec")))
LIBRARY = ROOT / "cql" / "DLIMedicalNecessity.cql"
VALUESETS = ROOT / "cql" / "valuesets"
CASES = sorted(p for p in (ROOT / "fhir-examples").iterdir() if (p / "request.json").is_file())
QUESTIONNAIRE_URL = "http://localhost:8080/fhir/Questionnaire/dli-cp-mp-101"
NOW = "2026-11-24T10:00:00.000+00:00"


def node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the ELM differential test needs cql-execution")
    if not (ORACLE / "node_modules" / "cql-execution").is_dir():
        pytest.skip("cql-execution is not installed: run tests/oracle/install.sh")
    return node


@pytest.fixture(scope="session")
def elm_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, Any]]]:
    node = node_or_skip()
    if not (SPEC_DIR / "fhir-modelinfo-4.0.1.xml").is_file():
        pytest.skip(f"FHIR model info not found in {SPEC_DIR} (set CQL_SPEC_DIR)")
    work = tmp_path_factory.mktemp("our-elm")
    helpers_cql = work / "FHIRHelpers-4.0.1.cql"
    helpers_cql.write_text(generate(SPEC_DIR / "fhir-modelinfo-4.0.1.xml"))
    (work / "library.json").write_text(json.dumps(library_elm(LIBRARY)))
    (work / "helpers.json").write_text(json.dumps(library_elm(helpers_cql)))
    return run_cases(
        [
            node,
            str(HERE / "run_elm.mjs"),
            str(work / "library.json"),
            str(work / "helpers.json"),
            str(VALUESETS),
            NOW,
            QUESTIONNAIRE_URL,
        ],
        CASES,
    )


@pytest.fixture(scope="session")
def our_library() -> Any:
    from cds.cql.api import load_library
    from cds.cql.terminology.folder import FolderTerminology

    return load_library(LIBRARY, terminology=FolderTerminology(VALUESETS))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_our_elm_in_cql_execution_equals_our_engine(
    case: Path, elm_results: dict[str, Any], our_library: Any
) -> None:
    from cds.cql.result_json import to_json

    request = json.loads((case / "request.json").read_text())
    resources = _records(request)
    orders = [
        e["resource"]
        for e in request["context"]["draftOrders"].get("entry", [])
        if e["resource"]["resourceType"] == "ServiceRequest"
    ]
    now = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
    mismatches = []
    compared = 0
    for order in orders:
        result = our_library.evaluate(
            resources,
            parameters={"Order": order, "Draft Orders": orders, "Questionnaire URL": QUESTIONNAIRE_URL},
            now=now,
        )
        theirs_all = elm_results[case.name][f"ServiceRequest/{order['id']}"]
        assert set(theirs_all) == set(result.values), "the ELM and the engine have different defines"
        for name, theirs in theirs_all.items():
            compared += 1
            ours = _normalise(to_json(result[name]))
            if not _same(ours, _normalise(theirs)):
                mismatches.append(
                    f"{order['id']} {name!r}: engine {ours!r} != our ELM {_normalise(theirs)!r}"
                )
    assert compared > 0
    assert not mismatches, "\n".join(mismatches[:40])
