"""Comparing an evaluated result with the suite's expected output, with CQL semantics.

Strict where the suite means it: null only matches null, Integer/Long/Decimal must be of the
same kind, Strings match exactly, Lists element by element in order, Tuples element by element.
Other values (temporal, Quantity, Interval, Code, Concept, Ratio) match when CQL equality says
true, or, where equality is uncertain, when CQL equivalence says true (same precision, same
value).
"""

from __future__ import annotations

import decimal
from typing import Any

from cds.cql.runtime.values import Long, Tuple


def same_value(actual: Any, expected: Any) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, Long) or isinstance(actual, Long):
        return isinstance(actual, Long) and isinstance(expected, Long) and int(actual) == int(expected)
    if isinstance(expected, int) or isinstance(actual, int):
        return type(actual) is int and type(expected) is int and actual == expected
    if isinstance(expected, decimal.Decimal) or isinstance(actual, decimal.Decimal):
        return (
            isinstance(actual, decimal.Decimal)
            and isinstance(expected, decimal.Decimal)
            and actual == expected
        )
    if isinstance(expected, str) or isinstance(actual, str):
        return isinstance(actual, str) and isinstance(expected, str) and actual == expected
    if isinstance(expected, list) or isinstance(actual, list):
        return (
            isinstance(actual, list)
            and isinstance(expected, list)
            and len(actual) == len(expected)
            and all(same_value(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, Tuple) or isinstance(actual, Tuple):
        return (
            isinstance(actual, dict)
            and isinstance(expected, dict)
            and set(actual) == set(expected)
            and all(same_value(actual[k], expected[k]) for k in expected)
        )
    if type(actual) is not type(expected):
        return False
    from cds.cql.operators.comparison import equal, equivalent

    if equal(actual, expected) is True:
        return True
    return equivalent(actual, expected) is True


def show(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"
