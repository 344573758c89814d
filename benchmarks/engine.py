"""Benchmark: the DLI policy library on a 40-resource record, our engine beside the reference JS
engine (cql-execution) on the same library and data, in the same run.

Targets (issue 2): ours ≤ 0.5 × the reference engine's time per evaluation; loading and
compiling the DLI library ≤ 200 ms. Run: ``.venv/bin/python -m benchmarks.engine``
(needs ``tests/oracle/install.sh`` for the reference side).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.record40 import record40

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "cql" / "DLIMedicalNecessity.cql"
VALUESETS = ROOT / "cql" / "valuesets"
SPEC = ROOT.parent / "shared" / "cql-spec"
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
QURL = "http://localhost:8080/fhir/Questionnaire/dli-cp-mp-101"


def ours(iterations: int) -> dict[str, float | str]:
    """Load (cold: the first in the process, imports included; warm: again) and evaluate."""
    from cds.cql.api import load_library
    from cds.cql.terminology.folder import FolderTerminology

    start = time.perf_counter()
    library = load_library(LIBRARY, terminology=FolderTerminology(VALUESETS))
    cold_ms = (time.perf_counter() - start) * 1000
    loads = []
    for _ in range(5):
        start = time.perf_counter()
        load_library(LIBRARY, terminology=FolderTerminology(VALUESETS))
        loads.append((time.perf_counter() - start) * 1000)
    resources, orders, _ = record40()
    params = {"Order": orders[0], "Draft Orders": orders, "Questionnaire URL": QURL}
    for _ in range(20):
        library.evaluate(resources, parameters=params, now=NOW)
    times = []
    outcome = None
    for _ in range(iterations):
        start = time.perf_counter()
        result = library.evaluate(resources, parameters=params, now=NOW)
        outcome = result["Outcome"]
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "load_cold_ms": cold_ms,
        "load_warm_ms": statistics.median(loads),
        "median_ms": times[len(times) // 2],
        "p90_ms": times[int(len(times) * 0.9)],
        "outcome": str(outcome),
        "typed": str(library.compiled.typed),
        "dispatch_sites": float(len(library.compiled.dispatch_sites)),
    }


def reference(iterations: int) -> dict[str, float | str]:
    sys.path.insert(0, str(ROOT))
    from tests.oracle.generate_fhirhelpers import generate

    resources, orders, _ = record40()
    with tempfile.TemporaryDirectory() as tmp:
        libs = Path(tmp) / "libs"
        libs.mkdir()
        (libs / "FHIRHelpers-4.0.1.cql").write_text(generate(SPEC / "fhir-modelinfo-4.0.1.xml"))
        record = Path(tmp) / "record.json"
        record.write_text(json.dumps({"resources": resources, "orders": orders}))
        proc = subprocess.run(
            [
                "node",
                str(Path(__file__).with_name("reference_engine.mjs")),
                str(SPEC),
                str(libs),
                str(LIBRARY),
                str(VALUESETS),
                str(record),
                str(iterations),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    mine = ours(iterations)
    theirs = reference(iterations)
    print(f"record: 40 resources, 1 order; {iterations} evaluations each after warm-up")
    print(
        f"ours:      load+compile cold {mine['load_cold_ms']:.1f} ms, warm {mine['load_warm_ms']:.1f} ms; "
        f"evaluate median {mine['median_ms']:.3f} ms, p90 {mine['p90_ms']:.3f} ms ({mine['outcome']})"
    )
    print(
        f"compiled with static types: {mine['typed']}; run-time dispatch sites left: "
        f"{int(float(mine['dispatch_sites']))}"
    )
    print(
        f"reference: translate {float(theirs['translate_ms']):.0f} ms; evaluate median "
        f"{float(theirs['median_ms']):.3f} ms, p90 {float(theirs['p90_ms']):.3f} ms ({theirs['outcome']})"
    )
    ratio = float(mine["median_ms"]) / float(theirs["median_ms"])
    print(f"ratio ours/reference (median): {ratio:.2f} (target ≤ 0.50); load target ≤ 200 ms")


if __name__ == "__main__":
    main()
