"""Rewrite ``skip.txt`` from a run of the whole suite (skipped tests included): tests that now
pass leave the list; failures enter it with the first line of their failure as the reason. A
reason written by hand (why the test is not passed: the spec section, the suite's inconsistency)
is kept while the test still fails; generated reasons are refreshed.

Run: ``.venv/bin/python -m tests.cql.conformance.update_skips`` and review the diff.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENERATED = ("CqlLoadError", "CqlRuntimeError", "AssertionError", "DID NOT RAISE", "cds/", "tests/")


def _generated(reason: str) -> bool:
    return reason.startswith(GENERATED) or reason == "failed"


def _reason(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for marker in ("CqlLoadError", "CqlRuntimeError", "AssertionError", "Failed: DID NOT RAISE"):
        for i, line in enumerate(lines):
            if marker in line:
                detail = line.split(marker, 1)[1].strip(": ")
                if marker == "CqlLoadError" and i + 1 < len(lines):
                    detail = lines[i + 1].split(": ", 1)[-1]
                if marker == "AssertionError" and i + 2 < len(lines):
                    detail = f"{lines[i + 1]} / {lines[i + 2]}"
                return f"{marker.replace('Failed: ', '')}: {detail}"[:200]
    return (lines[-1] if lines else "failed")[:200]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        env = dict(os.environ, CQL_CONFORMANCE_RUN_SKIPPED="1")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                str(HERE / "test_conformance.py"),
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={report}",
            ],
            env=env,
            check=False,
            capture_output=True,
        )
        root = ET.parse(report).getroot()
    failures: dict[str, str] = {}
    for case in root.iter("testcase"):
        name = case.get("name", "")
        if not name.startswith("test_conformance["):
            continue
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        if failure is not None:
            test_id = name[len("test_conformance[") : -1]
            failures[test_id] = _reason((failure.get("message") or "") + "\n" + (failure.text or ""))
    from tests.cql.conformance.suite import load_skips

    previous = load_skips(HERE / "skip.txt")
    for test_id, reason in previous.items():
        if test_id in failures and not _generated(reason):
            failures[test_id] = reason
    lines = [
        "# One conformance test per line: File/Group/Test, a tab, and why it is skipped.",
        "# Regenerate with: .venv/bin/python -m tests.cql.conformance.update_skips",
    ]
    lines += [f"{test_id}\t{reason}" for test_id, reason in sorted(failures.items())]
    (HERE / "skip.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(failures)} skipped tests written to skip.txt")


if __name__ == "__main__":
    main()
