"""Specialised implementations of System operators for operand types known at compile time
(Integer, Decimal, String, Boolean, Date, DateTime; lists of them for ``In``/``Contains``).

The compiler picks one with :func:`specialised` from the operands' static types. Each checks
its operands' exact Python type with one test and answers directly; any other value (null, or a
value the static type does not describe exactly — e.g. an uncertainty where an Integer duration
was expected) goes to the generic operator, so the answers, null semantics included, are the
generic operator's by construction (``tests/cql/compiler/test_typed_compile.py`` checks both
paths on a table of values).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Any

from cds.cql.operators import comparison
from cds.cql.operators.arithmetic import Multiply, _fit, add, subtract
from cds.cql.operators.list import contains
from cds.cql.runtime.temporal import Date, DateTime
from cds.cql.runtime.values import MAX_INTEGER, MIN_INTEGER

D = decimal.Decimal
Op = Callable[..., Any]


def _not_equal(a: Any, b: Any) -> bool | None:
    r = comparison.equal(a, b)
    return None if r is None else not r


# ---------------------------------------------------------------- Integer
def add_integer(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        r = a + b
        return r if MIN_INTEGER <= r <= MAX_INTEGER else None
    return add(a, b)


def subtract_integer(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        r = a - b
        return r if MIN_INTEGER <= r <= MAX_INTEGER else None
    return subtract(a, b)


def multiply_integer(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        r = a * b
        return r if MIN_INTEGER <= r <= MAX_INTEGER else None
    return Multiply(a, b)


def add_string(a: Any, b: Any) -> Any:
    """String ``+`` (concatenation; null if either is null)."""
    if type(a) is str and type(b) is str:
        return a + b
    return add(a, b)


# ---------------------------------------------------------------- Decimal
def add_decimal(a: Any, b: Any) -> Any:
    if type(a) is D and type(b) is D:
        return _fit(a + b, "decimal")
    return add(a, b)


def subtract_decimal(a: Any, b: Any) -> Any:
    if type(a) is D and type(b) is D:
        return _fit(a - b, "decimal")
    return subtract(a, b)


# ---------------------------------------------------------------- equality and order
def _equality(exact: type) -> tuple[Op, Op]:
    """Equal and NotEqual where both operands are ``exact`` (compared by value)."""

    def equal(a: Any, b: Any) -> bool | None:
        if type(a) is exact and type(b) is exact:
            return bool(a == b)
        return comparison.equal(a, b)

    def not_equal(a: Any, b: Any) -> bool | None:
        if type(a) is exact and type(b) is exact:
            return bool(a != b)
        return _not_equal(a, b)

    return equal, not_equal


def _order(exact: type) -> tuple[Op, Op, Op, Op]:
    """Less, LessOrEqual, Greater, GreaterOrEqual where both operands are ``exact`` (totally
    ordered Python values: int, Decimal, str)."""

    def less(a: Any, b: Any) -> bool | None:
        if type(a) is exact and type(b) is exact:
            return bool(a < b)
        return comparison.less(a, b)

    def less_or_equal(a: Any, b: Any) -> bool | None:
        if type(a) is exact and type(b) is exact:
            return bool(a <= b)
        return comparison.less_or_equal(a, b)

    def greater(a: Any, b: Any) -> bool | None:
        if type(a) is exact and type(b) is exact:
            return bool(a > b)
        return comparison.greater(a, b)

    def greater_or_equal(a: Any, b: Any) -> bool | None:
        if type(a) is exact and type(b) is exact:
            return bool(a >= b)
        return comparison.greater_or_equal(a, b)

    return less, less_or_equal, greater, greater_or_equal


def _temporal_equality(exact: Any) -> tuple[Op, Op]:
    """Equal and NotEqual of two Dates or two DateTimes (null when the precisions leave it
    uncertain): the value's own ``cql_equal``."""

    def equal(a: Any, b: Any) -> bool | None:
        if type(a) is exact and type(b) is exact:
            r: bool | None = a.cql_equal(b)
            return r
        return comparison.equal(a, b)

    def not_equal(a: Any, b: Any) -> bool | None:
        if type(a) is exact and type(b) is exact:
            r: bool | None = a.cql_equal(b)
            return None if r is None else not r
        return _not_equal(a, b)

    return equal, not_equal


def _temporal_order(exact: Any) -> tuple[Op, Op, Op, Op]:
    """The comparisons of two Dates or two DateTimes: the value's own ``cql_compare``."""

    def less(a: Any, b: Any) -> bool | None:
        if type(a) is exact and type(b) is exact:
            c: int | None = a.cql_compare(b)
            return None if c is None else c < 0
        return comparison.less(a, b)

    def less_or_equal(a: Any, b: Any) -> bool | None:
        if type(a) is exact and type(b) is exact:
            c: int | None = a.cql_compare(b)
            return None if c is None else c <= 0
        return comparison.less_or_equal(a, b)

    def greater(a: Any, b: Any) -> bool | None:
        if type(a) is exact and type(b) is exact:
            c: int | None = a.cql_compare(b)
            return None if c is None else c > 0
        return comparison.greater(a, b)

    def greater_or_equal(a: Any, b: Any) -> bool | None:
        if type(a) is exact and type(b) is exact:
            c: int | None = a.cql_compare(b)
            return None if c is None else c >= 0
        return comparison.greater_or_equal(a, b)

    return less, less_or_equal, greater, greater_or_equal


def in_list(element: Any, items: Any) -> bool | None:
    """``element in items`` where ``items`` is statically a list (no interval dispatch)."""
    return contains(items, element)


def list_contains(items: Any, element: Any) -> bool | None:
    return contains(items, element)


_COMPARISONS = ("Less", "LessOrEqual", "Greater", "GreaterOrEqual")
_TABLE: dict[tuple[str, str], Op] = {
    ("Add", "Integer"): add_integer,
    ("Subtract", "Integer"): subtract_integer,
    ("Multiply", "Integer"): multiply_integer,
    ("Add", "Decimal"): add_decimal,
    ("Add", "String"): add_string,
    ("Subtract", "Decimal"): subtract_decimal,
}
for _kind, _exact in (("Integer", int), ("Decimal", D), ("String", str), ("Boolean", bool)):
    _TABLE[("Equal", _kind)], _TABLE[("NotEqual", _kind)] = _equality(_exact)
for _kind, _exact in (("Integer", int), ("Decimal", D), ("String", str)):
    for _name, _fn in zip(_COMPARISONS, _order(_exact), strict=True):
        _TABLE[(_name, _kind)] = _fn
for _kind, _temporal in (("Date", Date), ("DateTime", DateTime)):
    _TABLE[("Equal", _kind)], _TABLE[("NotEqual", _kind)] = _temporal_equality(_temporal)
    for _name, _fn in zip(_COMPARISONS, _temporal_order(_temporal), strict=True):
        _TABLE[(_name, _kind)] = _fn

#: The operand kinds :func:`specialised` knows.
KINDS = frozenset({"Integer", "Decimal", "String", "Boolean", "Date", "DateTime"})


def specialised(name: str, kinds: tuple[str | None, ...]) -> Op | None:
    """The specialised implementation of operator ``name`` for operands of ``kinds`` (a System
    type name per operand, ``List<...>`` for lists of one; None where unknown), or None."""
    if len(kinds) != 2:
        return None
    a, b = kinds
    if name == "In" and a in KINDS and b == f"List<{a}>":
        return in_list
    if name == "Contains" and b in KINDS and a == f"List<{b}>":
        return list_contains
    if a is None or a != b:
        return None
    return _TABLE.get((name, a))
