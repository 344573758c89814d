"""Collapse and Expand (CQL 1.5 §9.13): a list of intervals merged where they meet or overlap,
and an interval cut into unit intervals (or points) ``per`` a quantity."""

from __future__ import annotations

import decimal
import functools
from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.operators.arithmetic import successor
from cds.cql.operators.comparison import compare
from cds.cql.operators.interval import le_at
from cds.cql.operators.interval_boundaries import end, start
from cds.cql.operators.registry import operator
from cds.cql.runtime import temporal
from cds.cql.runtime.interval import Interval
from cds.cql.runtime.quantity import Quantity
from cds.cql.runtime.values import CALENDAR_WORDS


@operator("Collapse")
def Collapse(intervals: Any, per: Any = None) -> Any:
    if intervals is None:
        return None
    items = sorted((i for i in intervals if i is not None), key=_sort_key)
    out: list[Interval] = []
    for item in items:
        if out:
            last = out[-1]
            touches = le_at(start(item), successor(end(last)), None)
            if touches is True:
                if compare(end(item), end(last)) == 1:
                    out[-1] = Interval(last.low, item.high, last.low_closed, item.high_closed)
                continue
        out.append(item)
    return out


def _sort_key(i: Interval) -> Any:
    return functools.cmp_to_key(lambda a, b: compare(a, b) or 0)(start(i))


@operator("Expand")
def Expand(source: Any, per: Any = None) -> Any:
    """``expand`` (CQL 1.5 §9.13): each interval cut into closed intervals of width ``per``
    aligned on its start, at the precision of ``per``; only whole units that end within the
    interval are kept. The list form gives the unit intervals, the interval form their starts."""
    if source is None:
        return None
    intervals = source if isinstance(source, list) else [source]
    result: list[Interval] = []
    for interval in Collapse([i for i in intervals if i is not None]) or []:
        lo, hi = start(interval), end(interval)
        if lo is None or hi is None:
            return None
        if temporal.is_temporal(lo):
            units = _temporal_units(lo, hi, per)
        else:
            units = _numeric_units(lo, hi, per)
        if units is None:
            return None
        result.extend(units)
    return result if isinstance(source, list) else [r.low for r in result]


_LIMIT = 100000  # units of one expansion; more is refused rather than exhausting memory


def _too_many() -> CqlRuntimeError:
    return CqlRuntimeError(f"expand: more than {_LIMIT} intervals")


def _temporal_units(lo: Any, hi: Any, per: Any) -> list[Interval] | None:
    if per is None:
        precision = lo.PRECISIONS[min(len(lo.parts), len(hi.parts)) - 1]
        amount = 1
    else:
        if not isinstance(per, Quantity):
            raise CqlRuntimeError("expand: per must be a temporal quantity for date/time intervals")
        precision = CALENDAR_WORDS.get(per.unit, "")
        if not precision or per.value != per.value.to_integral_value() or per.value <= 0:
            raise CqlRuntimeError(f"expand: per {per.value} '{per.unit}' is not a positive calendar duration")
        amount = int(per.value)
        if precision == "week":
            precision, amount = "day", amount * 7
    if precision not in lo.PRECISIONS:
        raise CqlRuntimeError(f"expand: a {type(lo).__name__} has no {precision} precision")
    depth = lo.PRECISIONS.index(precision) + 1
    if len(lo.parts) < depth or len(hi.parts) < depth:
        return []  # boundaries coarser than per: no unit is known to lie within the interval
    point, last = lo.with_parts(lo.parts[:depth]), hi.with_parts(hi.parts[:depth])
    units: list[Interval] = []
    while point is not None:
        unit_end = point.shifted(amount - 1)
        if unit_end is None or compare(unit_end, last) in (None, 1):
            break
        units.append(Interval(point, unit_end, True, True))
        if len(units) > _LIMIT:
            raise _too_many()
        point = point.shifted(amount)
    return units


def _numeric_units(lo: Any, hi: Any, per: Any) -> list[Interval] | None:
    unit = None
    if isinstance(lo, Quantity):
        unit = lo.unit
        if not isinstance(hi, Quantity) or hi.unit != unit:
            return None
        lo, hi = lo.value, hi.value
        if per is not None:
            if not isinstance(per, Quantity) or per.unit not in (unit, "1"):
                raise CqlRuntimeError("expand: per must have the unit of the interval's quantities")
            per = per.value
    elif isinstance(per, Quantity):
        if per.unit != "1":
            raise CqlRuntimeError(f"expand: per '{per.unit}' does not apply to numbers")
        per = per.value
    if per is None:  # one unit of the boundaries' coarsest precision (Appendix B Expand)
        if type(lo) is int and type(hi) is int:
            per = 1
        else:
            places = min(_places(decimal.Decimal(lo)), _places(decimal.Decimal(hi)))
            per = decimal.Decimal(1).scaleb(-places)
    if per <= 0:
        raise CqlRuntimeError("expand: per must be positive")
    integers = type(lo) is int and type(per) is int
    if integers:
        step: Any = 1
    else:
        size = decimal.Decimal(per)
        exponent = size.as_tuple().exponent
        step = decimal.Decimal(1).scaleb(min(0, exponent if isinstance(exponent, int) else 0))
        if type(hi) is int and step < 1:
            hi = decimal.Decimal(hi) + 1 - step  # an Integer boundary covers its whole unit
        lo = decimal.Decimal(lo).quantize(step, rounding=decimal.ROUND_FLOOR)
        per = size
    units: list[Interval] = []
    point = lo
    while point + per - step <= hi:
        low, high = point, point + per - step
        if unit is not None:
            units.append(Interval(Quantity(low, unit), Quantity(high, unit), True, True))
        else:
            units.append(Interval(low, high, True, True))
        if len(units) > _LIMIT:
            raise _too_many()
        point = point + per
    return units


def _places(value: decimal.Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
