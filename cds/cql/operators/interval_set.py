"""The set operators shared by lists and intervals (CQL 1.5 §9.13 and §9.14): Union, Intersect
and Except. On intervals the result is an interval or null (when it would be two pieces, or
the operands are apart); on lists they are the list operators."""

from __future__ import annotations

from typing import Any

from cds.cql.operators import list as lists
from cds.cql.operators.arithmetic import predecessor, successor
from cds.cql.operators.comparison import compare
from cds.cql.operators.interval_boundaries import (
    and3,
    bounds_le,
    bounds_successor,
    end,
    end_bounds,
    not3,
    or3,
    start,
    start_bounds,
)
from cds.cql.operators.registry import operator
from cds.cql.runtime.interval import Interval


@operator("Union")
def Union(a: Any, b: Any) -> Any:
    if isinstance(a, Interval) or isinstance(b, Interval):
        if a is None or b is None:
            return None
        # the union is an interval only when the two overlap or meet
        joined = and3(
            bounds_le(start_bounds(a), bounds_successor(end_bounds(b))),
            bounds_le(start_bounds(b), bounds_successor(end_bounds(a))),
        )
        if joined is not True:
            return None
        lo = a if compare(start(a), start(b)) in (None, -1, 0) else b
        hi = a if compare(end(a), end(b)) in (0, 1) else b
        return Interval(lo.low, hi.high, lo.low_closed, hi.high_closed)
    return lists.list_union(a, b)


@operator("Intersect")
def Intersect(a: Any, b: Any) -> Any:
    if isinstance(a, Interval) or isinstance(b, Interval):
        if a is None or b is None:
            return None
        lo = a if compare(start(a), start(b)) in (0, 1) else b
        hi = a if compare(end(a), end(b)) in (-1, 0) else b
        if compare(start(lo), end(hi)) == 1:
            return None
        return Interval(lo.low, hi.high, lo.low_closed, hi.high_closed)
    return lists.list_intersect(a, b)


@operator("Except")
def Except(a: Any, b: Any) -> Any:
    if isinstance(a, Interval) or isinstance(b, Interval):
        if a is None or b is None:
            return None
        return interval_except(a, b)
    return lists.list_except(a, b)


def interval_except(a: Interval, b: Interval) -> Interval | None:
    """The part of ``a`` not in ``b`` (CQL 1.5 §9.13 Except): ``a`` itself when they do not
    overlap, null when ``b`` covers ``a`` or lies strictly inside it (two pieces)."""
    sa, ea, sb, eb = start_bounds(a), end_bounds(a), start_bounds(b), end_bounds(b)
    apart = or3(not3(bounds_le(sb, ea)), not3(bounds_le(sa, eb)))
    if apart is None:
        return None
    if apart:
        return a
    starts_inside = not3(bounds_le(sb, sa))  # b starts after a starts
    ends_inside = not3(bounds_le(ea, eb))  # b ends before a ends
    if starts_inside is None or ends_inside is None or starts_inside == ends_inside:
        return None  # uncertain; or b covers a; or b splits a in two
    if starts_inside:
        high = predecessor(start(b))
        return None if high is None else Interval(a.low, high, a.low_closed, True)
    low = successor(end(b))
    return None if low is None else Interval(low, a.high, True, a.high_closed)
