"""Differential oracle: our engine against the reference JS engine, define by define.

The reference toolchain (``@cqframework/cql`` translator, ``cql-execution``, ``cql-exec-fhir``;
pinned in ``package-lock.json``, installed by ``install.sh``) translates the project's policy
library with the FHIR model info from ``../shared/cql-spec`` and a FHIRHelpers library we
generate from that model info, and runs it on every ``fhir-examples`` case. Our engine runs the
same library on the same data; every public expression define must have the same value.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .generate_fhirhelpers import generate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SPEC_DIR = Path(os.environ.get("CQL_SPEC_DIR", str(ROOT.parent / "shared" / "cql-spec")))
LIBRARY = ROOT / "cql" / "DLIMedicalNecessity.cql"
VALUESETS = ROOT / "cql" / "valuesets"
CASES = sorted(p for p in (ROOT / "fhir-examples").iterdir() if (p / "request.json").is_file())
QUESTIONNAIRE_URL = "http://localhost:8080/fhir/Questionnaire/dli-cp-mp-101"
NOW = "2026-11-24T10:00:00.000+00:00"


@pytest.fixture(scope="session")
def reference_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, Any]]]:
    if not (SPEC_DIR / "fhir-modelinfo-4.0.1.xml").is_file():
        pytest.skip(f"FHIR model info not found in {SPEC_DIR} (set CQL_SPEC_DIR)")
    node = shutil.which("node")
    assert node, "node is required for the differential oracle (the test set-up installs the toolchain)"
    assert (HERE / "node_modules" / "cql-execution").is_dir(), "run tests/oracle/install.sh first"
    libraries = tmp_path_factory.mktemp("oracle-libraries")
    (libraries / "FHIRHelpers-4.0.1.cql").write_text(generate(SPEC_DIR / "fhir-modelinfo-4.0.1.xml"))
    return run_cases(
        [
            node,
            str(HERE / "reference.mjs"),
            str(SPEC_DIR),
            str(libraries),
            str(LIBRARY),
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


def _records(request: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for value in (request.get("prefetch") or {}).values():
        if not value:
            continue
        if value.get("resourceType") == "Bundle":
            out.extend(e["resource"] for e in value.get("entry", []))
        elif value.get("resourceType") != "OperationOutcome":
            out.append(value)
    return out


def _normalise(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.replace(".000+", "+").replace(".000-", "-").replace(".000Z", "Z")
        if len(text) > 10 and text[4:5] == "-" and text.endswith("Z"):
            text = text[:-1] + "+00:00"
        return text
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items() if v is not None}
    return value


def _same(ours: Any, theirs: Any) -> bool:
    if isinstance(ours, float) and isinstance(theirs, float):
        return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-8)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(_same(a, b) for a, b in zip(ours, theirs, strict=True))
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(_same(ours[k], theirs[k]) for k in ours)
    return bool(ours == theirs)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_define_matches_the_reference_engine(
    case: Path, reference_results: dict[str, Any], our_library: Any
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
    for order in orders:
        result = our_library.evaluate(
            resources,
            parameters={"Order": order, "Draft Orders": orders, "Questionnaire URL": QUESTIONNAIRE_URL},
            now=now,
        )
        expected = reference_results[case.name][f"ServiceRequest/{order['id']}"]
        for name, theirs in expected.items():
            ours = _normalise(to_json(result[name]))
            if not _same(ours, _normalise(theirs)):
                mismatches.append(
                    f"{order['id']} {name!r}: ours {ours!r} != reference {_normalise(theirs)!r}"
                )
    assert not mismatches, "\n".join(mismatches[:40])


def run_cases(command: list[str], cases: list[Path]) -> dict[str, Any]:
    """Run a node script over ``cases`` (appended to ``command``): each JSON line it prints is
    one case's ``orders``, by its ``case``; every case must have one."""
    proc = subprocess.run(
        [*command, *map(str, cases)], capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            results[row["case"]] = row["orders"]
    assert len(results) == len(cases)
    return results
