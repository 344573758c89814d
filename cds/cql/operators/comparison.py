"""Comparison and equality (CQL 1.5 §9.3 "Comparison Operators"): Equal, NotEqual, Equivalent,
Less, Greater, LessOrEqual, GreaterOrEqual over every type, with null semantics. Class values
answer through their ``cql_equal``/``cql_equivalent``/``cql_compare`` methods."""

from __future__ import annotations

import decimal
from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.operators import uncertainty
from cds.cql.operators.registry import operator
from cds.cql.runtime.interval import Interval
from cds.cql.runtime.quantity import Quantity
from cds.cql.runtime.temporal import Date, DateTime, Time
from cds.cql.runtime.values import Tuple

_SIMPLE = (str, int, bool)

_NUMBER = (int, decimal.Decimal)


def _promote(a: Any, b: Any) -> tuple[Any, Any]:
    if type(a) is type(b):
        return a, b
    if isinstance(a, decimal.Decimal) and isinstance(b, int) and not isinstance(b, bool):
        return a, decimal.Decimal(b)
    if isinstance(b, decimal.Decimal) and isinstance(a, int) and not isinstance(a, bool):
        return decimal.Decimal(a), b
    if isinstance(a, Date) and isinstance(b, DateTime):
        return a.to_datetime(), b
    if isinstance(b, Date) and isinstance(a, DateTime):
        return a, b.to_datetime()
    if isinstance(a, Quantity) and isinstance(b, _NUMBER) and not isinstance(b, bool):
        return a, Quantity(b, "1")
    if isinstance(b, Quantity) and isinstance(a, _NUMBER) and not isinstance(a, bool):
        return Quantity(a, "1"), b
    return a, b


def equal(a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    if type(a) is type(b) and type(a) in _SIMPLE:
        return bool(a == b)
    a, b = _promote(a, b)
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return False if isinstance(b, list) else None
        result: bool | None = True
        for x, y in zip(a, b, strict=True):
            if x is None and y is None:
                continue  # null elements of lists are considered equal
            r = equal(x, y)
            if r is False:
                return False
            if r is None:
                result = None
        return result
    if isinstance(a, dict) and not hasattr(a, "cql_equal"):
        if not isinstance(b, dict) or set(a) != set(b):
            return False
        result = True
        for key in a:
            if a[key] is None and b[key] is None:
                continue
            r = equal(a[key], b[key])
            if r is False:
                return False
            if r is None:
                result = None
        return result
    if (type(a) is Interval) is not (type(b) is Interval) and (type(a) is int or type(b) is int):
        c = uncertainty.compare(a, b)  # an uncertainty against an Integer
        return None if c is None else c == 0
    method = getattr(a, "cql_equal", None)
    if method is not None:
        answer: bool | None = method(b)
        return answer
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if type(a) is not type(b) and not (isinstance(a, _NUMBER) and isinstance(b, _NUMBER)):
        return False
    return bool(a == b)


def equivalent(a: Any, b: Any) -> bool:
    if a is None and b is None:
        return True
    if a is None or b is None:
        return False
    a, b = _promote(a, b)
    if isinstance(a, str) and isinstance(b, str):
        return " ".join(a.lower().split()) == " ".join(b.lower().split())
    if isinstance(a, decimal.Decimal) and isinstance(b, decimal.Decimal):
        # rounded to the least precise operand; trailing zeros do not count as precision
        scale = max(min(_scale(a), _scale(b)), 0)
        q = decimal.Decimal(1).scaleb(-scale)
        return a.quantize(q, rounding=decimal.ROUND_HALF_UP) == b.quantize(q, rounding=decimal.ROUND_HALF_UP)
    if isinstance(a, list):
        return (
            isinstance(b, list)
            and len(a) == len(b)
            and all(equivalent(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict) and not hasattr(a, "cql_equivalent"):
        return isinstance(b, dict) and set(a) == set(b) and all(equivalent(a[k], b[k]) for k in a)
    method = getattr(a, "cql_equivalent", None)
    if method is not None:
        return bool(method(b))
    r = equal(a, b)
    return r is True


def _scale(value: decimal.Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) else 0


def compare(a: Any, b: Any, precision: str | None = None) -> int | None:
    """Negative, zero, positive; None when null or uncertain."""
    if a is None or b is None:
        return None
    a, b = _promote(a, b)
    if isinstance(a, str) and isinstance(b, str):
        return (a > b) - (a < b)
    if (
        isinstance(a, _NUMBER)
        and isinstance(b, _NUMBER)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return (a > b) - (a < b)
    method = getattr(a, "cql_compare", None)
    if method is not None:
        r: int | None = method(b, precision) if precision is not None else method(b)
        return r
    if type(a) is Interval or type(b) is Interval:
        return uncertainty.compare(a, b)
    if isinstance(a, bool) and isinstance(b, bool):
        return (a > b) - (a < b)
    return None


def order_keys(values: list[Any]) -> list[tuple[Any, ...]] | None:
    """Python sort keys that order ``values`` exactly as :func:`compare` does, nulls first — or
    None when some pair needs CQL comparison (mixed types, temporal values of different
    precisions, quantities...). Keys exist for strings, Integers, Decimals, and Dates, DateTimes
    or Times of one precision, the usual sort keys."""
    keys: list[tuple[Any, ...]] = []
    kind: type | None = None
    width = -1
    for value in values:
        if value is None:
            keys.append((0,))
            continue
        t = type(value)
        if kind is None:
            kind = t
        elif t is not kind:
            return None
        if t is str or t is int or t is decimal.Decimal:
            keys.append((1, value))
        elif t is DateTime or t is Date or t is Time:
            key = value.order_key()
            if width < 0:
                width = len(key)
            elif len(key) != width:
                return None
            keys.append((1, key))
        else:
            return None
    return keys


def less(a: Any, b: Any, precision: str | None = None) -> bool | None:
    if type(a) is Interval or type(b) is Interval:
        return uncertainty.relation(a, b, "<")
    c = compare(a, b, precision)
    return None if c is None else c < 0


def less_or_equal(a: Any, b: Any, precision: str | None = None) -> bool | None:
    if type(a) is Interval or type(b) is Interval:
        return uncertainty.relation(a, b, "<=")
    c = compare(a, b, precision)
    return None if c is None else c <= 0


def greater(a: Any, b: Any, precision: str | None = None) -> bool | None:
    if type(a) is Interval or type(b) is Interval:
        return uncertainty.relation(a, b, ">")
    c = compare(a, b, precision)
    return None if c is None else c > 0


def greater_or_equal(a: Any, b: Any, precision: str | None = None) -> bool | None:
    if type(a) is Interval or type(b) is Interval:
        return uncertainty.relation(a, b, ">=")
    c = compare(a, b, precision)
    return None if c is None else c >= 0


def _same_tuple_type(a: Any, b: Any) -> None:
    """``=`` and ``~`` take two operands of one type (``=<T>(T, T)``): tuples with different
    element names have no common type, so no operator applies (a type error)."""
    if type(a) is Tuple and type(b) is Tuple and a.keys() != b.keys():
        raise CqlRuntimeError(
            f"cannot compare tuples of different types ({', '.join(a)} and {', '.join(b)})"
        )


@operator("Equal")
def Equal(a: Any, b: Any) -> bool | None:
    _same_tuple_type(a, b)
    return equal(a, b)


@operator("NotEqual")
def NotEqual(a: Any, b: Any) -> bool | None:
    _same_tuple_type(a, b)
    r = equal(a, b)
    return None if r is None else not r


@operator("Equivalent")
def Equivalent(a: Any, b: Any) -> bool:
    _same_tuple_type(a, b)
    return equivalent(a, b)


@operator("Less")
def Less(a: Any, b: Any, precision: str | None = None) -> bool | None:
    return less(a, b, precision)


@operator("LessOrEqual")
def LessOrEqual(a: Any, b: Any, precision: str | None = None) -> bool | None:
    return less_or_equal(a, b, precision)


@operator("Greater")
def Greater(a: Any, b: Any, precision: str | None = None) -> bool | None:
    return greater(a, b, precision)


@operator("GreaterOrEqual")
def GreaterOrEqual(a: Any, b: Any, precision: str | None = None) -> bool | None:
    return greater_or_equal(a, b, precision)


__all__ = ["Tuple", "compare", "equal", "equivalent", "greater", "greater_or_equal", "less", "less_or_equal"]
