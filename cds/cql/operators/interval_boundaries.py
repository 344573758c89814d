"""Interval boundaries (CQL 1.5 Appendix B, Start and End): the closed start and end of an
interval (an open boundary's successor or predecessor; a closed null boundary is the point type's
minimum or maximum), and the uncertain boundaries of open null ones.

An open null boundary is unknown, but the other boundary limits it: the start of
Interval(null, 5] is at most 5. Such a boundary is a range ``(lo, hi)``, None meaning unbounded;
``bounds_le`` and ``bounds_equal`` answer true, false or null (it depends) for such ranges.
"""

from __future__ import annotations

import decimal
from typing import Any

from cds.cql.operators.arithmetic import predecessor, successor
from cds.cql.operators.comparison import compare, equal
from cds.cql.operators.precision import max_value, min_value
from cds.cql.runtime.interval import Interval
from cds.cql.runtime.temporal import Date, DateTime, Time
from cds.cql.runtime.values import Long


def closed_low(i: Interval) -> Any:
    if i.low is None:
        return None
    return i.low if i.low_closed else successor(i.low)


def closed_high(i: Interval) -> Any:
    if i.high is None:
        return None
    return i.high if i.high_closed else predecessor(i.high)


def start(i: Interval) -> Any:
    if i.low is None and i.low_closed:
        return extreme_of(i.high, False)
    return closed_low(i)


def end(i: Interval) -> Any:
    if i.high is None and i.high_closed:
        return extreme_of(i.low, True)
    return closed_high(i)


_TYPE_NAMES = {int: "Integer", Long: "Long", decimal.Decimal: "Decimal", Date: "Date", DateTime: "DateTime", Time: "Time"}


def extreme_of(point: Any, maximum: bool) -> Any:
    """The minimum (or maximum) value of ``point``'s type: what a closed null boundary stands
    for (CQL 1.5 §9.13 Start/End); None when unknown (no point, or a type without one)."""
    name = _TYPE_NAMES.get(type(point))
    if name is None:
        return None
    return max_value(name) if maximum else min_value(name)


def with_point_type(i: Interval, other: Any) -> Interval:
    """``i`` with both boundaries null and closed (Interval[null, null]) read over the point type
    of ``other``, the interval it is compared with: the same type, as the operator's signature
    requires."""
    if i.low is not None or i.high is not None or not (i.low_closed and i.high_closed):
        return i
    point = other
    if isinstance(other, Interval):
        point = other.low if other.low is not None else other.high
    low, high = extreme_of(point, False), extreme_of(point, True)
    return i if low is None else Interval(low, high, True, True)


Bounds = tuple[Any, Any]


def start_bounds(i: Interval) -> Bounds:
    if i.low is None and not i.low_closed:
        return None, end(i)
    point = start(i)
    return point, point


def end_bounds(i: Interval) -> Bounds:
    if i.high is None and not i.high_closed:
        return start(i), None
    point = end(i)
    return point, point


def _exact(b: Bounds) -> bool:
    return b[0] is not None and b[0] is b[1]


def bounds_le(x: Bounds, y: Bounds) -> bool | None:
    """Is ``x <= y`` for every value of the ranges (True), none (False), or it depends (None)."""
    if x[1] is not None and y[0] is not None and compare(x[1], y[0]) in (-1, 0):
        return True
    if x[0] is not None and y[1] is not None and compare(x[0], y[1]) == 1:
        return False
    return None


def bounds_equal(x: Bounds, y: Bounds) -> bool | None:
    if _exact(x) and _exact(y):
        return equal(x[0], y[0])
    if x[1] is not None and y[0] is not None and compare(x[1], y[0]) == -1:
        return False
    if x[0] is not None and y[1] is not None and compare(x[0], y[1]) == 1:
        return False
    return None


def bounds_successor(b: Bounds) -> Bounds:
    if _exact(b):
        point = successor(b[0])
        return point, point
    return successor(b[0]), successor(b[1])


def or3(x: bool | None, y: bool | None) -> bool | None:
    if x is True or y is True:
        return True
    return None if x is None or y is None else False


def and3(x: bool | None, y: bool | None) -> bool | None:
    if x is False or y is False:
        return False
    return None if x is None or y is None else True


def meets_before(a: Interval, b: Interval, precision: str | None = None) -> bool | None:
    """The end of ``a`` is just before the start of ``b``: its successor (at ``precision``,
    when given, for date/time points) is the start of ``b``."""
    end_a, start_b = end_bounds(a), start_bounds(b)
    if precision is not None:
        end_a, start_b = _truncated(end_a, precision), _truncated(start_b, precision)
    return bounds_equal(bounds_successor(end_a), start_b)


def truncate(value: Any, precision: str) -> Any:
    """A date/time value cut to ``precision`` (week as day); other values unchanged."""
    names = getattr(value, "PRECISIONS", None)
    if names is None:
        return value
    unit = "day" if precision == "week" else precision
    if unit not in names:
        return value
    depth = names.index(unit) + 1
    return value.with_parts(value.parts[:depth]) if len(value.parts) > depth else value


def _truncated(b: Bounds, precision: str) -> Bounds:
    lo = None if b[0] is None else truncate(b[0], precision)
    if b[1] is b[0]:
        return lo, lo
    return lo, None if b[1] is None else truncate(b[1], precision)


def not3(x: bool | None) -> bool | None:
    return None if x is None else not x
