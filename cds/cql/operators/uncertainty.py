"""Uncertainty (CQL 1.5 §5.7): a duration between date/times less precise than its unit needs
is a range of Integers, an Interval (see DurationBetween). Compared with an Integer it is true or
false only when every value of the range agrees, else null; added, subtracted or multiplied, the
result is the range of all results."""

from __future__ import annotations

from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.runtime.interval import Interval
from cds.cql.runtime.values import MAX_INTEGER, MIN_INTEGER


def _range(x: Any) -> tuple[int, int] | None:
    if type(x) is Interval and type(x.low) is int and type(x.high) is int:
        return x.low, x.high
    if type(x) is int:
        return x, x
    return None


def compare(a: Any, b: Any) -> int | None:
    """An uncertainty against an Integer (or another uncertainty): -1, 1 when the ranges lie
    apart, 0 when both are the same single value, else None."""
    x, y = _range(a), _range(b)
    if x is None or y is None:
        return None
    if x[1] < y[0]:
        return -1
    if x[0] > y[1]:
        return 1
    return 0 if x[0] == x[1] == y[0] == y[1] else None


def relation(a: Any, b: Any, op: str) -> bool | None:
    """``a op b`` (op one of < <= > >=) with an uncertainty on either side: true when every pair
    of values satisfies it, false when none does, else null."""
    x, y = _range(a), _range(b)
    if x is None or y is None:
        return None
    (a_lo, a_hi), (b_lo, b_hi) = x, y
    if op == "<":
        always, never = a_hi < b_lo, a_lo >= b_hi
    elif op == "<=":
        always, never = a_hi <= b_lo, a_lo > b_hi
    elif op == ">":
        always, never = a_lo > b_hi, a_hi <= b_lo
    else:
        always, never = a_lo >= b_hi, a_hi < b_lo
    return True if always else False if never else None


def arithmetic(a: Any, b: Any, op: str) -> Any:
    """``a op b`` (op one of + - *) with an uncertainty on either side: the least and greatest
    results the ranges allow (the Integer when they agree); null past the Integer range."""
    x, y = _range(a), _range(b)
    if x is None or y is None:
        other = b if x is not None else a
        raise CqlRuntimeError(f"arithmetic on an interval and a {type(other).__name__} is not defined")
    (a_lo, a_hi), (b_lo, b_hi) = x, y
    if op == "+":
        values = [a_lo + b_lo, a_hi + b_hi]
    elif op == "-":
        values = [a_lo - b_hi, a_hi - b_lo]
    else:
        values = [a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi]
    low, high = min(values), max(values)
    if low < MIN_INTEGER or high > MAX_INTEGER:
        return None
    return low if low == high else Interval(low, high, True, True)
