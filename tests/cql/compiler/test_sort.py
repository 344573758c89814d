"""Query sorting: the Python keys used when every sort value is plainly ordered (strings,
numbers, temporal values of one precision) give exactly the order CQL comparison gives (nulls
first, stable for equal keys), and values that need CQL comparison fall back to it."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds.cql.api import load_library
from cds.cql.operators.comparison import compare, order_keys
from cds.cql.runtime.temporal import Date, DateTime, Time

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


def _cql_order(values: list[Any], descending: bool) -> list[int]:
    """Positions of ``values`` sorted by CQL comparison, as the general sort does."""

    def cmp(i: int, j: int) -> int:
        a, b = values[i], values[j]
        if a is None or b is None:
            result = (a is not None) - (b is not None)
        else:
            result = compare(a, b) or 0
        return -result if descending else result

    return sorted(range(len(values)), key=functools.cmp_to_key(cmp))


def _key_order(values: list[Any], descending: bool) -> list[int] | None:
    keys = order_keys(values)
    if keys is None:
        return None
    return sorted(range(len(values)), key=keys.__getitem__, reverse=descending)


def _datetimes(width: int) -> st.SearchStrategy[DateTime]:
    parts = st.tuples(
        st.integers(2000, 2002),
        st.integers(1, 12),
        st.integers(1, 28),
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
        st.integers(0, 999),
    )
    offsets = st.sampled_from([Decimal(0), Decimal(-5), Decimal("5.5"), Decimal(14)])
    return st.builds(lambda p, o: DateTime(p[:width], o), parts, offsets)


_SAME_KIND = st.one_of(
    st.lists(st.one_of(st.none(), st.text(max_size=3)), max_size=12),
    st.lists(st.one_of(st.none(), st.integers(-5, 5)), max_size=12),
    st.lists(st.one_of(st.none(), st.decimals(-5, 5, places=2)), max_size=12),
    *(st.lists(st.one_of(st.none(), _datetimes(w)), max_size=12) for w in (1, 3, 4, 7)),
    st.lists(st.one_of(st.none(), st.builds(Date, st.integers(2000, 2001), st.integers(1, 12))), max_size=12),
    st.lists(st.one_of(st.none(), st.builds(Time, st.integers(0, 23), st.integers(0, 59))), max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(_SAME_KIND, st.booleans())
def test_python_keys_order_as_cql_comparison(values: list[Any], descending: bool) -> None:
    assert _key_order(values, descending) == _cql_order(values, descending)


@pytest.mark.parametrize(
    "values",
    [
        [DateTime((2026, 1, 1), Decimal(0)), DateTime((2026, 1, 1, 10), Decimal(0))],  # precisions
        [1, Decimal("1.5")],  # Integer beside Decimal
        [Date(2026, 1, 1), DateTime((2026, 1, 1), Decimal(0))],
        [True, False],
    ],
)
def test_values_needing_cql_comparison_have_no_python_keys(values: list[Any]) -> None:
    assert order_keys(values) is None


def _evaluate(expression: str) -> Any:
    lib = load_library(f"library T version '1'\ndefine \"X\": {expression}\n")
    return lib.evaluate([], now=NOW)["X"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("({ 3, null, 1, 2 }) X sort desc", [3, 2, 1, None]),
        ("({ 3, null, 1, 2 }) X sort asc", [None, 1, 2, 3]),
        (
            "({ Tuple { a: 1, b: 'x' }, Tuple { a: 2, b: 'y' }, Tuple { a: 1, b: 'z' } }) T"
            " sort by a desc, b asc",
            [("y", 2), ("x", 1), ("z", 1)],
        ),
        (  # mixed precisions: CQL comparison decides; uncertain pairs (09 and 09:30) by their
            # earliest moment, then the less precise first (the conformance suite's Sort tests)
            "({ @2026-01-01T10:00:00Z, @2026-01-01T09Z, @2025-12-31T23:00:00Z, @2026-01-01T09:30Z }) D"
            " sort desc",
            [
                "@2026-01-01T10:00:00+00:00",
                "@2026-01-01T09:30+00:00",
                "@2026-01-01T09+00:00",
                "@2025-12-31T23:00:00+00:00",
            ],
        ),
    ],
)
def test_sorted_queries(expression: str, expected: list[Any]) -> None:
    result = _evaluate(expression)
    if expected and isinstance(expected[0], tuple):
        assert [(row["b"], row["a"]) for row in result] == expected
    elif expected and isinstance(expected[0], str):
        assert [repr(v) for v in result] == expected
    else:
        assert result == expected
