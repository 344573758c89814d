"""Benchmark: the decision latency of the policy library at 40 and 1,000 resources.

The 40-resource record is ``record40`` (example 02 padded with a realistic history); the
1,000-resource record is the same case padded the same way up to 1,000 resources (older
chimerism results, routine labs, resolved problems, smoking statuses, goals, medications).
Every evaluation reads the whole library (all public defines) for one order, as the service does.

Issue 16's target: the free-text reader keeps both within 10 % of the latency before it.
Run: ``.venv/bin/python -m benchmarks.decision [ITERATIONS [LIBRARY.cql]]``; to compare with an
older library on the same machine, pass its file (``git show REV:cql/DLIMedicalNecessity.cql``).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.record40 import BASE_CASE, _padding, _resources

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "cql" / "DLIMedicalNecessity.cql"
VALUESETS = ROOT / "cql" / "valuesets"
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
QURL = "http://localhost:8080/fhir/Questionnaire/dli-cp-mp-101"


def record(size: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    request = json.loads((BASE_CASE / "request.json").read_text())
    resources = _resources(request)
    resources += _padding(request["context"]["patientId"], size - len(resources))
    orders = [e["resource"] for e in request["context"]["draftOrders"]["entry"]]
    assert len(resources) == size
    return resources, orders


def measure(library: Any, size: int, iterations: int) -> dict[str, float | str]:
    resources, orders = record(size)
    params = {"Order": orders[0], "Draft Orders": orders, "Questionnaire URL": QURL}
    for _ in range(max(3, iterations // 10)):
        library.evaluate(resources, parameters=params, now=NOW)
    times = []
    outcome = None
    for _ in range(iterations):
        start = time.perf_counter()
        result = library.evaluate(resources, parameters=params, now=NOW)
        times.append((time.perf_counter() - start) * 1000)
        outcome = result["Outcome"]
    times.sort()
    return {
        "median_ms": statistics.median(times),
        "p90_ms": times[int(len(times) * 0.9)],
        "outcome": str(outcome),
    }


def main() -> None:
    from cds.cql.api import load_library
    from cds.cql.terminology.folder import FolderTerminology

    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    source = Path(sys.argv[2]) if len(sys.argv) > 2 else LIBRARY
    library = load_library(source, terminology=FolderTerminology(VALUESETS))
    for size, runs in ((40, iterations), (1000, max(10, iterations // 10))):
        r = measure(library, size, runs)
        print(
            f"{size:>5} resources: median {r['median_ms']:.3f} ms, p90 {r['p90_ms']:.3f} ms "
            f"({runs} evaluations, outcome {r['outcome']})"
        )


if __name__ == "__main__":
    main()
