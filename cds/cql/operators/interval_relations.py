"""The timing relations of points and intervals (CQL 1.5 §9.13, the Allen relations with a
precision): Before, After, SameAs, SameOrBefore, SameOrAfter (point and interval forms), Meets,
MeetsBefore, MeetsAfter, Overlaps, OverlapsBefore, OverlapsAfter, Starts and Ends."""

from __future__ import annotations

from typing import Any

from cds.cql.operators.comparison import compare
from cds.cql.operators.interval import ge_at, le_at, same_at
from cds.cql.operators.interval_boundaries import and3, end, meets_before, or3, start
from cds.cql.operators.registry import operator
from cds.cql.runtime.interval import Interval


def _order(a: Any, b: Any, first_is_end: bool, precision: str | None) -> int | None:
    """How the first point compares with the second (null when unknown): for Before-like
    relations the end of ``a`` and the start of ``b``, for After-like ones the start of ``a``
    and the end of ``b`` (a point stands for itself)."""
    pa = (end(a) if first_is_end else start(a)) if isinstance(a, Interval) else a
    pb = (start(b) if first_is_end else end(b)) if isinstance(b, Interval) else b
    return compare(pa, pb, precision)


@operator("Before")
def Before(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    c = _order(a, b, True, precision)
    return None if c is None else c < 0


@operator("After")
def After(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    c = _order(a, b, False, precision)
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
    c = _order(a, b, True, precision)
    return None if c is None else c <= 0


@operator("SameOrAfter")
def SameOrAfter(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    c = _order(a, b, False, precision)
    return None if c is None else c >= 0


@operator("Overlaps")
def Overlaps(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    return and3(le_at(start(a), end(b), precision), le_at(start(b), end(a), precision))


@operator("Meets")
def Meets(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    return or3(meets_before(a, b, precision), meets_before(b, a, precision))


@operator("Starts")
def Starts(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    return and3(same_at(start(a), start(b), precision), le_at(end(a), end(b), precision))


@operator("Ends")
def Ends(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None:
        return None
    return and3(ge_at(start(a), start(b), precision), same_at(end(a), end(b), precision))


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
