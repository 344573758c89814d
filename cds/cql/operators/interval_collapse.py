"""Collapse and Expand (CQL 1.5 §9.13): a list of intervals merged where they meet or overlap,
and an interval cut into unit intervals (or points) ``per`` a quantity."""

from __future__ import annotations

import decimal
import functools
from typing import Any

from cds.cql.operators.arithmetic import add, predecessor, successor
from cds.cql.operators.comparison import compare
from cds.cql.operators.interval import end, le_at, start
from cds.cql.operators.registry import operator
from cds.cql.runtime.interval import Interval
from cds.cql.runtime.quantity import Quantity


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
    if source is None:
        return None
    intervals = source if isinstance(source, list) else [source]
    result: list[Any] = []
    for interval in Collapse([i for i in intervals if i is not None]) or []:
        lo, hi = start(interval), end(interval)
        if lo is None or hi is None:
            return None
        step: Any = per
        if step is None:
            step = 1 if isinstance(lo, int) else Quantity(1, "1")
        value = lo
        guard = 0
        while compare(value, hi) is not None and compare(value, hi) <= 0 and guard < 100000:  # type: ignore[operator]
            nxt = add(
                value,
                step.value if isinstance(step, Quantity) and isinstance(lo, int | decimal.Decimal) else step,
            )
            last = predecessor(nxt) if nxt is not None else None
            if last is None or compare(last, hi) == 1:
                break
            result.append(Interval(value, last, True, True))
            value = nxt
            guard += 1
    return result if isinstance(source, list) else [r.low for r in result]
