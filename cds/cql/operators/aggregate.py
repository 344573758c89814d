"""Aggregate functions (CQL 1.5 §9.15): nulls are ignored; an empty input gives null (Count:
0; AllTrue: true; AnyTrue: false)."""

from __future__ import annotations

import decimal
import statistics
from functools import reduce
from typing import Any

from cds.cql.operators.arithmetic import Divide, Multiply, add
from cds.cql.operators.comparison import compare
from cds.cql.operators.list import distinct
from cds.cql.operators.registry import operator


def _values(items: Any) -> list[Any]:
    return [] if items is None else [i for i in items if i is not None]


@operator("Count")
def Count(items: Any) -> int:
    return len(_values(items))


@operator("Sum")
def Sum(items: Any) -> Any:
    values = _values(items)
    return reduce(add, values) if values else None


@operator("Min")
def Min(items: Any) -> Any:
    values = _values(items)
    if not values:
        return None
    best = values[0]
    for v in values[1:]:
        c = compare(v, best)
        if c is not None and c < 0:
            best = v
    return best


@operator("Max")
def Max(items: Any) -> Any:
    values = _values(items)
    if not values:
        return None
    best = values[0]
    for v in values[1:]:
        c = compare(v, best)
        if c is not None and c > 0:
            best = v
    return best


@operator("Avg")
def Avg(items: Any) -> Any:
    values = _values(items)
    if not values:
        return None
    return Divide(reduce(add, values), decimal.Decimal(len(values)))


@operator("Median")
def Median(items: Any) -> Any:
    values = sorted(_values(items), key=lambda v: decimal.Decimal(v) if not hasattr(v, "value") else v.value)
    if not values:
        return None
    mid = len(values) // 2
    if len(values) % 2:
        return values[mid] if not isinstance(values[mid], int) else decimal.Decimal(values[mid])
    return Divide(add(values[mid - 1], values[mid]), decimal.Decimal(2))


@operator("Mode")
def Mode(items: Any) -> Any:
    values = _values(items)
    if not values:
        return None
    counts = [(sum(1 for w in values if compare(w, v) == 0), v) for v in distinct(values)]
    return max(counts, key=lambda c: c[0])[1]


def _numbers(items: Any) -> list[decimal.Decimal]:
    return [decimal.Decimal(v) if not hasattr(v, "value") else v.value for v in _values(items)]


@operator("Variance")
def Variance(items: Any) -> Any:
    values = _numbers(items)
    return None if len(values) < 2 else _fit(statistics.variance(values))


@operator("PopulationVariance")
def PopulationVariance(items: Any) -> Any:
    values = _numbers(items)
    return None if not values else _fit(statistics.pvariance(values))


@operator("StdDev")
def StdDev(items: Any) -> Any:
    values = _numbers(items)
    return None if len(values) < 2 else _fit(statistics.variance(values).sqrt())


@operator("PopulationStdDev")
def PopulationStdDev(items: Any) -> Any:
    values = _numbers(items)
    return None if not values else _fit(statistics.pvariance(values).sqrt())


def _fit(value: decimal.Decimal) -> decimal.Decimal:
    return value.quantize(decimal.Decimal("0.00000001"), rounding=decimal.ROUND_HALF_UP)


@operator("AllTrue")
def AllTrue(items: Any) -> bool:
    return all(v is True for v in _values(items))


@operator("AnyTrue")
def AnyTrue(items: Any) -> bool:
    return any(v is True for v in _values(items))


@operator("Product")
def Product(items: Any) -> Any:
    values = _values(items)
    return reduce(Multiply, values) if values else None


@operator("GeometricMean")
def GeometricMean(items: Any) -> Any:
    values = _numbers(items)
    if not values:
        return None
    product = reduce(lambda a, b: a * b, values)
    return _fit(product ** (decimal.Decimal(1) / len(values)))
