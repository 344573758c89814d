"""Interval operators (CQL 1.5 §9.13), and the operators shared by lists and intervals:
In, Contains, Includes, IncludedIn, Union, Intersect, Except, Before/After, SameAs (point and
interval forms)."""

from __future__ import annotations

from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.operators import list as lists
from cds.cql.operators.arithmetic import predecessor, successor
from cds.cql.operators.comparison import compare, equal, equivalent
from cds.cql.operators.interval_boundaries import (
    and3,
    bounds_le,
    bounds_successor,
    end,
    end_bounds,
    meets_before,
    not3,
    or3,
    start,
    start_bounds,
    with_point_type,
)
from cds.cql.operators.registry import operator
from cds.cql.runtime.interval import Interval


def interval_equal(a: Interval, b: object) -> bool | None:
    if not isinstance(b, Interval):
        return None
    lo = equal(start(a), start(b))
    hi = equal(end(a), end(b))
    if lo is False or hi is False:
        return False
    if lo is None or hi is None:
        return None
    return True


def interval_equivalent(a: Interval, b: object) -> bool:
    return isinstance(b, Interval) and equivalent(start(a), start(b)) and equivalent(end(a), end(b))


@operator("IntervalSelector")
def IntervalSelector(low: Any, high: Any, low_closed: bool, high_closed: bool) -> Interval:
    if low is not None and high is not None:
        c = compare(low, high)
        if c is not None and c > 0:
            raise CqlRuntimeError("invalid interval: the low boundary is greater than the high boundary")
        if c == 0 and not (low_closed and high_closed):
            raise CqlRuntimeError("invalid interval: an open boundary leaves the interval empty")
        if not (low_closed and high_closed):
            lo = low if low_closed else successor(low)
            hi = high if high_closed else predecessor(high)
            c = compare(lo, hi) if lo is not None and hi is not None else None
            if c is not None and c > 0:
                raise CqlRuntimeError("invalid interval: the open boundaries leave the interval empty")
    return Interval(low, high, low_closed, high_closed)


@operator("Start")
def Start(i: Any) -> Any:
    return None if i is None else start(i)


@operator("End")
def End(i: Any) -> Any:
    return None if i is None else end(i)


def point_in(point: Any, i: Interval, precision: str | None = None) -> bool | None:
    if point is None:
        return None
    lo, hi = start(i), end(i)
    after_low = (
        True
        if (i.low is None and not i.low_closed)
        else (None if lo is None else ge_at(point, lo, precision))
    )
    before_high = (
        True
        if (i.high is None and not i.high_closed)
        else (None if hi is None else le_at(point, hi, precision))
    )
    if after_low is False or before_high is False:
        return False
    if after_low is None or before_high is None:
        return None
    return True


def ge_at(a: Any, b: Any, precision: str | None) -> bool | None:
    c = compare(a, b, precision)
    return None if c is None else c >= 0


def same_at(a: Any, b: Any, precision: str | None) -> bool | None:
    if precision is None:
        return equal(a, b)
    c = compare(a, b, precision)
    return None if c is None else c == 0


def le_at(a: Any, b: Any, precision: str | None) -> bool | None:
    c = compare(a, b, precision)
    return None if c is None else c <= 0


@operator("In")
def In(element: Any, container: Any, precision: str | None = None) -> Any:
    if isinstance(container, Interval):
        return point_in(element, container, precision)
    return lists.contains(container, element)


@operator("Contains")
def Contains(container: Any, element: Any, precision: str | None = None) -> Any:
    if isinstance(container, Interval):
        return point_in(element, container, precision)
    return lists.contains(container, element)


@operator("Includes")
def Includes(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, Interval):
        if not isinstance(b, Interval):
            return point_in(b, a, precision)
        a, b = with_point_type(a, b), with_point_type(b, a)
        lo = le_at(start(a), start(b), precision)
        hi = ge_at(end(a), end(b), precision)
        if lo is False or hi is False:
            return False
        return None if lo is None or hi is None else True
    if not isinstance(b, list):
        return lists.contains(a, b)
    return lists.list_includes(a, b)


@operator("IncludedIn")
def IncludedIn(a: Any, b: Any, precision: str | None = None) -> Any:
    if isinstance(b, Interval) and not isinstance(a, Interval) and a is not None:
        return point_in(a, b, precision)
    if isinstance(b, list) and not isinstance(a, list) and a is not None:
        return lists.contains(b, a)
    return Includes(b, a, precision)


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


def _points(a: Any, b: Any, first_is_end: bool) -> tuple[Any, Any]:
    pa = (end(a) if first_is_end else start(a)) if isinstance(a, Interval) else a
    pb = (start(b) if first_is_end else end(b)) if isinstance(b, Interval) else b
    return pa, pb


@operator("Before")
def Before(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    pa, pb = _points(a, b, True)
    c = compare(pa, pb, precision)
    return None if c is None else c < 0


@operator("After")
def After(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    pa, pb = _points(a, b, False)
    c = compare(pa, pb, precision)
    return None if c is None else c > 0


@operator("SameAs")
def SameAs(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, Interval) and isinstance(b, Interval):
        s, e = SameAs(start(a), start(b), precision), SameAs(end(a), end(b), precision)
        return None if s is None or e is None else s and e
    c = compare(a, b, precision)
    return None if c is None else c == 0


@operator("SameOrBefore")
def SameOrBefore(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    pa, pb = _points(a, b, True)
    c = compare(pa, pb, precision)
    return None if c is None else c <= 0


@operator("SameOrAfter")
def SameOrAfter(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    pa, pb = _points(a, b, False)
    c = compare(pa, pb, precision)
    return None if c is None else c >= 0


@operator("Width")
def Width(i: Any) -> Any:
    if i is None:
        return None
    from cds.cql.operators.arithmetic import subtract
    from cds.cql.runtime import temporal

    if temporal.is_temporal(i.low) or temporal.is_temporal(i.high):
        # Width is defined for Integer, Long, Decimal and Quantity intervals only
        raise CqlRuntimeError("width is not defined for Date, DateTime or Time intervals")
    return subtract(end(i), start(i))


@operator("PointFrom")
def PointFrom(i: Any) -> Any:
    if i is None:
        return None
    if start(i) is None and end(i) is None:
        return None  # Interval[null, null]: no point is known
    if equal(start(i), end(i)) is not True:
        raise CqlRuntimeError("PointFrom: the interval is not a unit interval")
    return start(i)


@operator("Overlaps")
def Overlaps(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    x = le_at(start(a), end(b), precision)
    y = le_at(start(b), end(a), precision)
    if x is False or y is False:
        return False
    return None if x is None or y is None else True


@operator("Meets")
def Meets(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    return or3(meets_before(a, b, precision), meets_before(b, a, precision))


@operator("Starts")
def Starts(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    s = same_at(start(a), start(b), precision)
    e = le_at(end(a), end(b), precision)
    if s is False or e is False:
        return False
    return None if s is None or e is None else True


@operator("Ends")
def Ends(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    s = ge_at(start(a), start(b), precision)
    e = same_at(end(a), end(b), precision)
    if s is False or e is False:
        return False
    return None if s is None or e is None else True


def _proper_contains(container: Any, element: Any, precision: str | None) -> Any:
    if isinstance(container, Interval):
        inside = point_in(element, container, precision)
        if inside is not True:
            return inside
        return (
            compare(element, start(container), precision) != 0
            and compare(element, end(container), precision) != 0
        )
    # A list properly contains an element when it contains it and something else too; a null
    # list is empty (CQL 1.5 §9.14 ProperContains); null elements equal each other.
    items = container or []
    found: bool | None = False
    other: bool | None = False
    for item in items:
        same = (item is None) if element is None or item is None else equal(item, element)
        if element is not None and item is None:
            same = None
        if same is True:
            found = True
        elif same is False:
            other = True
        else:
            if found is False:
                found = None
            if other is False:
                other = None
    if found is not True:
        return found
    return other


@operator("ProperContains")
def ProperContains(container: Any, element: Any, precision: str | None = None) -> Any:
    return _proper_contains(container, element, precision)


@operator("ProperIn")
def ProperIn(element: Any, container: Any, precision: str | None = None) -> Any:
    return _proper_contains(container, element, precision)


@operator("ProperIncludes")
def ProperIncludes(a: Any, b: Any, precision: str | None = None) -> Any:
    if isinstance(a, list) and b is None or a is None and b is not None and not isinstance(b, list | Interval):
        return _proper_contains(a, b, precision)  # a list and an element (a null one untyped)
    if a is None or b is None:
        return None
    if isinstance(a, Interval) and isinstance(b, Interval):
        a, b = with_point_type(a, b), with_point_type(b, a)
    if isinstance(a, Interval) and not isinstance(b, Interval):
        return _proper_contains(a, b, precision)
    if isinstance(a, list) and not isinstance(b, list):
        return _proper_contains(a, b, precision)
    included = Includes(a, b, precision)
    if included is not True:
        return included
    if isinstance(a, Interval):
        same = (
            interval_equal(a, b)
            if precision is None
            else and3(same_at(start(a), start(b), precision), same_at(end(a), end(b), precision))
        )
        return None if same is None else not same
    return len(lists.distinct(list(a))) > len(lists.distinct(list(b)))


@operator("ProperIncludedIn")
def ProperIncludedIn(a: Any, b: Any, precision: str | None = None) -> Any:
    return ProperIncludes(b, a, precision)


@operator("MeetsBefore")
def MeetsBefore(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    return meets_before(a, b, precision)


@operator("MeetsAfter")
def MeetsAfter(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    return meets_before(b, a, precision)


@operator("OverlapsBefore")
def OverlapsBefore(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    x = compare(start(a), start(b), precision)
    y = ge_at(end(a), start(b), precision)
    if x is None or y is None:
        return None
    return x < 0 and y


@operator("OverlapsAfter")
def OverlapsAfter(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    x = compare(end(a), end(b), precision)
    y = le_at(start(a), end(b), precision)
    if x is None or y is None:
        return None
    return x > 0 and y
