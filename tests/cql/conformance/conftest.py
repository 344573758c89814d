"""Prints the conformance pass counts per file at the end of a run."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from . import test_conformance

    results = test_conformance.RESULTS
    if not results:
        return
    terminalreporter.section("CQL conformance suite")
    total = {"passed": 0, "failed": 0, "skipped": 0}
    for file, counts in sorted(results.items()):
        n = sum(counts.values())
        terminalreporter.write_line(
            f"{file:42s} {counts['passed']:5d}/{n:<5d} passed  ({counts['skipped']} skipped, "
            f"{counts['failed']} failed)"
        )
        for key in total:
            total[key] += counts[key]
    n = sum(total.values())
    pct = 100.0 * total["passed"] / n if n else 0.0
    terminalreporter.write_line(
        f"{'all':42s} {total['passed']:5d}/{n:<5d} passed  ({pct:.1f} %; {total['skipped']} skipped, "
        f"{total['failed']} failed)"
    )
