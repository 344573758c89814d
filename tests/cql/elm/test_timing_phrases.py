"""Timing phrases with offsets and boundaries are written as the reference translator writes
them (the expected shapes were read from its output): comparisons and memberships against
``B ± offset``, with the phrase's precision, a point beside an interval promoted."""

from __future__ import annotations

from typing import Any

import pytest

from cds.cql.api import library_elm


def sketch(x: Any) -> str:
    if not isinstance(x, dict):
        return str(x)
    t = x.get("type")
    if t == "Literal":
        return str(x["value"])
    if t == "Date":
        return "@" + "-".join(sketch(x[k]) for k in ("year", "month", "day") if k in x)
    if t == "Quantity":
        return f"{x['value']}{x['unit']}"
    if t == "Null":
        return "null"
    if t == "Interval":
        bounds = ("[" if x["lowClosed"] else "(") + ("]" if x["highClosed"] else ")")
        return f"Interval{bounds}({sketch(x['low'])}, {sketch(x['high'])})"
    operands = x.get("operand")
    if operands is None:
        operands = [v for v in x.values() if isinstance(v, dict)]
    if isinstance(operands, dict):
        operands = [operands]
    precision = f":{x['precision']}" if "precision" in x else ""
    return f"{t}{precision}(" + ", ".join(sketch(o) for o in operands) + ")"


A, B = "@2024-01-01", "@2024-02-01"
CASES = [
    (f"{A} 3 days before {B}", "SameAs(@2024-1-1, Subtract(@2024-2-1, 3days))"),
    (
        f"{A} 3 days or less before {B}",
        "And(In(@2024-1-1, Interval[)(Subtract(@2024-2-1, 3days), @2024-2-1)), Not(IsNull(@2024-2-1)))",
    ),
    (f"{A} 3 days or more after {B}", "SameOrAfter(@2024-1-1, Add(@2024-2-1, 3days))"),
    (f"{A} less than 3 days before {B}", "In(@2024-1-1, Interval()(Subtract(@2024-2-1, 3days), @2024-2-1))"),
    (f"{A} more than 3 days after {B}", "After(@2024-1-1, Add(@2024-2-1, 3days))"),
    (
        f"{A} within 3 days of {B}",
        "And(In(@2024-1-1, Interval[](Subtract(@2024-2-1, 3days), Add(@2024-2-1, 3days))), Not(IsNull(@2024-2-1)))",
    ),
    (
        f"{A} 3 days or less on or before {B}",
        "And(In(@2024-1-1, Interval[](Subtract(@2024-2-1, 3days), @2024-2-1)), Not(IsNull(@2024-2-1)))",
    ),
    (
        f"{A} 3 days or more on or before day of {B}",
        "SameOrBefore:Day(@2024-1-1, Subtract(@2024-2-1, 3days))",
    ),
    (
        f"Interval[{A}, @2024-01-05] starts 3 days or less before start of Interval[{B}, @2024-03-01]",
        "And(In(Start(Interval[](@2024-1-1, @2024-1-5)), Interval[)(Subtract(Start(Interval[](@2024-2-1, "
        "@2024-3-1)), 3days), Start(Interval[](@2024-2-1, @2024-3-1)))), Not(IsNull(Start(Interval[]("
        "@2024-2-1, @2024-3-1)))))",
    ),
    (
        "Interval[1, 10] before 12",
        "Before(Interval[](1, 10), If(IsNull(12), null, Interval[](12, 12)))",
    ),
    (f"{A} same month as {B}", "SameAs:Month(@2024-1-1, @2024-2-1)"),
    (f"{A} during Interval[{A}, {B}]", "In(@2024-1-1, Interval[](@2024-1-1, @2024-2-1))"),
]


@pytest.mark.parametrize(("expression", "expected"), CASES, ids=[c[0] for c in CASES])
def test_timing_phrase_shapes(expression: str, expected: str) -> None:
    elm = library_elm(f"library T\ndefine X: {expression}\n")
    assert sketch(elm["library"]["statements"]["def"][0]["expression"]) == expected
