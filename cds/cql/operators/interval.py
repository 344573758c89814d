"""Interval operators (CQL 1.5 §9.13): the selector, the accessors (Start, End, Width,
PointFrom), equality, and membership shared by lists and intervals: In, Contains, Includes,
IncludedIn and their proper forms. The set operators are in ``interval_set``, the timing
relations (Before/After, SameAs, Meets, Overlaps, Starts, Ends) in ``interval_relations``."""

from __future__ import annotations

from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.operators import list as lists
from cds.cql.operators.arithmetic import predecessor, successor
from cds.cql.operators.comparison import compare, equal, equivalent
from cds.cql.operators.interval_boundaries import and3, end, start, with_point_type
from cds.cql.operators.registry import operator
from cds.cql.runtime.interval import Interval


def interval_equal(a: Interval, b: object) -> bool | None:
    if not isinstance(b, Interval):
        return None
    return and3(equal(start(a), start(b)), equal(end(a), end(b)))


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
    return and3(after_low, before_high)


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
        return and3(le_at(start(a), start(b), precision), ge_at(end(a), end(b), precision))
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
