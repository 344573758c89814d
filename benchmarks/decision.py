"""Benchmark: the decision latency of the policy library at 40 and 1,000 resources.

The 40-resource record is ``record40`` (example 02 padded with a realistic history); the
1,000-resource record is the same case padded the same way up to 1,000 resources (older
chimerism results, routine labs, resolved problems, smoking statuses, goals, medications).
Every evaluation reads the whole library (all public defines) for one order, as the service does.

Issue 16's target: the free-text reader keeps both within 10 % of the latency before it. On a
shared machine wall-clock times drift, so a comparison runs both libraries in one process,
alternating evaluation by evaluation, and reports CPU time of the evaluating thread beside the
wall-clock median.

Run: ``.venv/bin/python -m benchmarks.decision [ITERATIONS [BEFORE.cql]]``; with BEFORE.cql (e.g.
``git show REV:cql/DLIMedicalNecessity.cql > /tmp/before.cql``) it compares that library with the
current one.
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


def _once(library: Any, resources: list[dict[str, Any]], params: dict[str, Any]) -> tuple[float, float, str]:
    wall, cpu = time.perf_counter(), time.thread_time()
    result = library.evaluate(resources, parameters=params, now=NOW)
    return (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000, str(result["Outcome"])


def measure(libraries: list[Any], size: int, iterations: int) -> list[dict[str, float | str]]:
    """Median wall-clock and CPU ms per library, evaluations alternating between libraries."""
    resources, orders = record(size)
    params = {"Order": orders[0], "Draft Orders": orders, "Questionnaire URL": QURL}
    for _ in range(max(3, iterations // 10)):
        for library in libraries:
            _once(library, resources, params)
    walls: list[list[float]] = [[] for _ in libraries]
    cpus: list[list[float]] = [[] for _ in libraries]
    outcomes = [""] * len(libraries)
    for _ in range(iterations):
        for i, library in enumerate(libraries):
            wall, cpu, outcomes[i] = _once(library, resources, params)
            walls[i].append(wall)
            cpus[i].append(cpu)
    return [
        {"wall_ms": statistics.median(walls[i]), "cpu_ms": statistics.median(cpus[i]), "outcome": outcomes[i]}
        for i in range(len(libraries))
    ]


def main() -> None:
    from cds.cql.api import load_library
    from cds.cql.terminology.folder import FolderTerminology

    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    sources = ([Path(sys.argv[2])] if len(sys.argv) > 2 else []) + [LIBRARY]
    names = ["before", "after"] if len(sources) == 2 else ["library"]
    libraries = [load_library(s, terminology=FolderTerminology(VALUESETS)) for s in sources]
    for size, runs in ((40, iterations), (1000, max(10, iterations // 10))):
        results = measure(libraries, size, runs)
        for name, r in zip(names, results, strict=True):
            print(
                f"{size:>5} resources, {name:>7}: median {r['wall_ms']:.3f} ms wall, {r['cpu_ms']:.3f} ms CPU "
                f"({runs} evaluations, outcome {r['outcome']})"
            )
        if len(results) == 2:
            ratio = float(results[1]["cpu_ms"]) / float(results[0]["cpu_ms"])
            print(f"{size:>5} resources: after / before (CPU) = {ratio:.3f}")


if __name__ == "__main__":
    main()
