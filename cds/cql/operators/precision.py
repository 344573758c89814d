"""The range and precision of the System types (CQL 1.5 Appendix B, Arithmetic Operators):
MinValue and MaxValue (``minimum Integer``...), and Precision, LowBoundary and HighBoundary - how
many digits a Decimal, Date, DateTime or Time value is given to, and the least and greatest values
it stands for at a given number of digits.

Digits of the temporal types: Date 4 (year), 6 (month), 8 (day); DateTime adds 10 (hour),
12 (minute), 14 (second), 17 (millisecond); Time 2, 4, 6, 9. Decimals have 8 decimal places at
most (values.DECIMAL_SCALE): a precision past that, or between the temporal steps, is null.
"""

from __future__ import annotations

import decimal
from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.operators.registry import operator
from cds.cql.runtime import temporal
from cds.cql.runtime.values import (
    DECIMAL_SCALE,
    MAX_DECIMAL,
    MAX_INTEGER,
    MAX_LONG,
    MIN_DECIMAL,
    MIN_INTEGER,
    MIN_LONG,
    Long,
)

_DATE_DIGITS = (4, 6, 8, 10, 12, 14, 17)
_TIME_DIGITS = (2, 4, 6, 9)
_LOWEST = (1, 1, 1, 0, 0, 0, 0)  # year, month, day, hour, minute, second, millisecond


def _digits(value: Any) -> tuple[int, ...]:
    return _TIME_DIGITS if isinstance(value, temporal.Time) else _DATE_DIGITS[: len(value.PRECISIONS)]


def _scale(value: decimal.Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@operator("Precision")
def Precision(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, decimal.Decimal):
        return _scale(value)
    if temporal.is_temporal(value):
        return _digits(value)[len(value.parts) - 1]
    raise CqlRuntimeError(f"Precision is not defined for a {type(value).__name__}")


@operator("LowBoundary")
def LowBoundary(value: Any, precision: Any = None) -> Any:
    return _boundary(value, precision, high=False)


@operator("HighBoundary")
def HighBoundary(value: Any, precision: Any = None) -> Any:
    return _boundary(value, precision, high=True)


def _boundary(value: Any, precision: Any, high: bool) -> Any:
    if value is None:
        return None
    if type(value) is int:  # an Integer argument is converted to Decimal
        value = decimal.Decimal(value)
    if isinstance(value, decimal.Decimal):
        return _decimal_boundary(value, DECIMAL_SCALE if precision is None else int(precision), high)
    if not temporal.is_temporal(value):
        raise CqlRuntimeError(f"{'High' if high else 'Low'}Boundary is not defined for a {type(value).__name__}")
    digits = _digits(value)
    wanted = digits[-1] if precision is None else int(precision)
    if wanted not in digits:
        return None
    depth = digits.index(wanted) + 1
    lowest: tuple[int, ...]
    highest: tuple[int, ...]
    if isinstance(value, temporal.Time):
        lowest, highest = (0, 0, 0, 0), (23, 59, 59, 999)
    else:
        lowest, highest = _LOWEST[:depth], (9999, 12, 31, 23, 59, 59, 999)[:depth]
    parts = list(value.parts[:depth])
    for i in range(len(parts), depth):
        if not high:
            parts.append(lowest[i])
        elif i == 2 and not isinstance(value, temporal.Time):  # the last day of the month
            parts.append(temporal.days_in_month(parts[0], parts[1]))
        else:
            parts.append(highest[i])
    return value.with_parts(tuple(parts))


def _decimal_boundary(value: decimal.Decimal, places: int, high: bool) -> Any:
    if places < 0 or places > DECIMAL_SCALE:
        return None
    step = decimal.Decimal(1).scaleb(-places)
    kept = value.quantize(step, rounding=decimal.ROUND_DOWN) if _scale(value) > places else value
    if _scale(kept) == places:
        return kept.quantize(step)
    # the digits not given range over 0..9: 9s give the greatest magnitude
    room = decimal.Decimal(1).scaleb(-_scale(kept)) - step
    negative = kept.is_signed()
    if high and not negative:
        kept += room
    elif not high and negative:
        kept -= room
    return kept.quantize(step)


def min_value(type_name: str) -> Any:
    name = type_name.removeprefix("System.")
    if name == "Integer":
        return MIN_INTEGER
    if name == "Long":
        return Long(MIN_LONG)
    if name == "Decimal":
        return MIN_DECIMAL
    if name == "Date":
        return temporal.Date(1, 1, 1)
    if name == "DateTime":
        return temporal.DateTime((1, 1, 1, 0, 0, 0, 0), decimal.Decimal(0))
    if name == "Time":
        return temporal.Time(0, 0, 0, 0)
    raise CqlRuntimeError(f"minimum is not defined for {type_name}")


def max_value(type_name: str) -> Any:
    name = type_name.removeprefix("System.")
    if name == "Integer":
        return MAX_INTEGER
    if name == "Long":
        return Long(MAX_LONG)
    if name == "Decimal":
        return MAX_DECIMAL
    if name == "Date":
        return temporal.Date(9999, 12, 31)
    if name == "DateTime":
        return temporal.DateTime((9999, 12, 31, 23, 59, 59, 999), decimal.Decimal(0))
    if name == "Time":
        return temporal.Time(23, 59, 59, 999)
    raise CqlRuntimeError(f"maximum is not defined for {type_name}")


@operator("MinValue")
def MinValue(type_name: str) -> Any:
    return min_value(type_name)


@operator("MaxValue")
def MaxValue(type_name: str) -> Any:
    return max_value(type_name)
