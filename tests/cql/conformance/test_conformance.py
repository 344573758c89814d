"""The official CQL conformance suite, run through our engine.

Every test of ``$CQL_TESTS_DIR`` (default ``../shared/cql-tests/tests/cql``) becomes one pytest
case: the expression and its expected output are both evaluated as CQL, and compared with CQL
semantics (see :func:`same_value`). Tests marked ``invalid`` must raise. Tests listed in
``skip.txt`` (one per line with its reason) are skipped; run them anyway with
``CQL_CONFORMANCE_RUN_SKIPPED=1`` to find entries that now pass. Pass counts per file are
printed at the end of the run (see ``conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from cds.cql.errors import CqlError

from .comparison import same_value, show
from .suite import SuiteCase, load_cases, load_skips, suite_dir

SKIP_FILE = Path(__file__).with_name("skip.txt")
SUITE_DIR = suite_dir()
CASES = load_cases(SUITE_DIR) if SUITE_DIR.is_dir() else []
SKIPS = load_skips(SKIP_FILE)
RUN_SKIPPED = os.environ.get("CQL_CONFORMANCE_RUN_SKIPPED") == "1"
# A fixed evaluation time: Now()/Today() are deterministic.
NOW = dt.datetime(2026, 1, 15, 12, 0, 0, tzinfo=dt.UTC)
RESULTS: dict[str, dict[str, int]] = {}


def _record(case: SuiteCase, outcome: str) -> None:
    counts = RESULTS.setdefault(case.file, {"passed": 0, "failed": 0, "skipped": 0})
    counts[outcome] += 1


def _library(case: SuiteCase) -> str:
    lines = ["library ConformanceCase version '1.0.0'", "", f'define "Result": {case.expression}']
    if case.outputs:
        lines.append(f'define "Expected": {case.outputs[0]}')
    return "\n".join(lines) + "\n"


def _evaluate(case: SuiteCase) -> tuple[object, object]:
    from cds.cql.api import load_library

    library = load_library(_library(case))
    result = library.evaluate([], now=NOW)
    return result["Result"], (result["Expected"] if case.outputs else None)


def test_suite_present() -> None:
    if not SUITE_DIR.is_dir():
        pytest.skip(
            f"official CQL conformance suite not found at {SUITE_DIR}: "
            "set CQL_TESTS_DIR to the cql-tests/tests/cql directory to run it"
        )
    assert len(CASES) > 1000, f"expected the whole suite in {SUITE_DIR}, found {len(CASES)} tests"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_conformance(case: SuiteCase) -> None:
    if case.id in SKIPS and not RUN_SKIPPED:
        _record(case, "skipped")
        pytest.skip(SKIPS[case.id])
    try:
        _check(case)
    except BaseException:
        _record(case, "failed")
        raise
    _record(case, "passed")


def _check(case: SuiteCase) -> None:
    if case.invalid in ("semantic", "syntax"):
        from cds.cql.api import load_library

        with pytest.raises(CqlError):
            load_library(_library(case))
        return
    if case.invalid == "true":
        with pytest.raises(CqlError):
            _evaluate(case)
        return
    actual, expected = _evaluate(case)
    if not case.outputs:
        return
    assert same_value(actual, expected), (
        f"{case.expression}\n  expected {case.outputs[0]} → {show(expected)}\n  got      {show(actual)}"
    )
