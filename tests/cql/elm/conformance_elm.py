"""The official conformance suite through OUR ELM in the reference engine (``cql-execution``),
beside the reference translator's ELM on the same engine.

Each test becomes the library the conformance runner builds (``tests/cql/conformance``: a
"Result" and an "Expected" define); we translate it with :func:`cds.cql.api.library_elm`
(a refusal — type error or ``cannot type`` — is recorded as an error, or a pass for a test
marked invalid) and ``run_conformance.mjs`` runs it. ``python -m tests.cql.elm.conformance_elm``
prints both counts (the reference side translates with ``@cqframework/cql``; slower);
``--shapes`` compares our ELM with the reference translator's, library by library.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from cds.cql.api import library_elm
from cds.cql.errors import CqlError
from tests.cql.conformance.suite import SuiteCase, load_cases, suite_dir
from tests.cql.conformance.test_conformance import _library

HERE = Path(__file__).resolve().parent
SPEC_DIR = Path(os.environ.get("CQL_SPEC_DIR", str(HERE.parents[2].parent / "shared" / "cql-spec")))


def cases() -> list[SuiteCase]:
    directory = suite_dir()
    return load_cases(directory) if directory.is_dir() else []


def our_rows(suite: list[SuiteCase]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for case in suite:
        row: dict[str, object] = {"id": case.id, "invalid": case.invalid, "elm": None}
        try:
            row["elm"] = library_elm(_library(case))
        except CqlError as exc:
            row["error"] = str(exc).splitlines()[-1]
        rows.append(row)
    return rows


def run_node(rows: list[dict[str, object]], translate: bool = False) -> dict[str, dict[str, str]]:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
        command = [
            node,
            str(HERE / "run_conformance.mjs"),
            *(["--translate", str(SPEC_DIR)] if translate else []),
            str(path),
        ]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    out = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            out[row["id"]] = row
    return out


def main() -> int:
    suite = cases()
    if not suite:
        print(f"conformance suite not found at {suite_dir()}", file=sys.stderr)
        return 1
    if "--shapes" in sys.argv:
        compare_shapes(suite)
        return 0
    ours = run_node(our_rows(suite))
    counts = Counter(r["status"] for r in ours.values())
    print(f"our ELM on cql-execution: {counts['pass']}/{len(suite)} pass ({dict(counts)})")
    reference_rows = [{"id": c.id, "invalid": c.invalid, "cql": _library(c)} for c in suite]
    reference = run_node(reference_rows, translate=True)
    ref_counts = Counter(r["status"] for r in reference.values())
    print(
        f"reference translator's ELM on cql-execution: {ref_counts['pass']}/{len(suite)} pass ({dict(ref_counts)})"
    )
    both = sum(
        1 for k, r in ours.items() if r["status"] == "pass" and reference.get(k, {}).get("status") == "pass"
    )
    print(f"pass with both: {both}")
    if "-v" in sys.argv:
        for k, r in ours.items():
            if r["status"] != "pass" and reference.get(k, {}).get("status") == "pass":
                print(f"  ours {r['status']}: {k}: {r['detail']}")
    return 0


def compare_shapes(suite: list[SuiteCase]) -> None:
    """How many conformance libraries translate to the same ELM as the reference translator's
    (normalised as in test_elm_matches_reference), and the first difference of the others by kind."""
    from .test_elm_matches_reference import first_difference, normalise

    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed")
    ours = {c.id: r["elm"] for c, r in zip(suite, our_rows(suite), strict=True)}
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, case in enumerate(suite):
            path = Path(tmp) / f"case{i}.cql"
            path.write_text(_library(case), encoding="utf-8")
            files.append(str(path))
        proc = subprocess.run(
            [node, str(HERE / "translate.mjs"), str(SPEC_DIR), tmp, *files],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    same = both = 0
    kinds: Counter[str] = Counter()
    for case, row in zip(suite, rows, strict=True):
        mine = ours[case.id]
        if mine is None or row["elm"] is None:
            continue
        both += 1
        a = normalise(mine)["library"]["statements"]
        b = normalise(row["elm"])["library"]["statements"]
        if a == b:
            same += 1
        else:
            where = first_difference(a, b) or ""
            kind = where.split(":")[0].split(".")[-1]
            if "-v" in sys.argv and kinds[kind] < 3:
                print(f"  {case.id}: {where[:400]}")
            kinds[kind] += 1
    print(f"ELM equal to the reference translator's: {same} of {both} translated by both")
    print(f"first differences by field: {kinds.most_common(15)}")


if __name__ == "__main__":
    raise SystemExit(main())
