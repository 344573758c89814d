"""CQL Quantity and Ratio values. Units are UCUM (or calendar duration words); comparison
converts units through :mod:`cds.cql.runtime.ucum` where a conversion exists."""

from __future__ import annotations

import decimal
from typing import Any

from cds.cql.runtime.values import CALENDAR_WORDS, DECIMAL_CONTEXT


def _dec(value: Any) -> decimal.Decimal:
    if isinstance(value, decimal.Decimal):
        return value
    if isinstance(value, float):
        return decimal.Decimal(repr(value))
    return decimal.Decimal(value)


class Quantity:
    __slots__ = ("value", "unit")

    def __init__(self, value: Any, unit: str | None = "1") -> None:
        self.value = _dec(value)
        unit = unit or "1"
        self.unit = CALENDAR_WORDS.get(unit, unit)

    def _aligned(self, other: Quantity) -> tuple[decimal.Decimal, decimal.Decimal] | None:
        if self.unit == other.unit:
            return self.value, other.value
        from cds.cql.runtime import ucum

        converted = ucum.convert(other.value, other.unit, self.unit)
        if converted is None:
            return None
        return self.value, converted

    def cql_compare(self, other: object, precision: str | None = None) -> int | None:
        if not isinstance(other, Quantity):
            return None
        aligned = self._aligned(other)
        if aligned is None:
            return None
        a, b = aligned
        return (a > b) - (a < b)

    def cql_equal(self, other: object) -> bool | None:
        c = self.cql_compare(other)
        return None if c is None else c == 0

    def cql_equivalent(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return False
        c = self.cql_compare(other)
        if c is not None:
            return c == 0
        a, b = _calendar_value(self, other), _calendar_value(other, self)
        return a is not None and b is not None and a == b

    def cql_to_string(self) -> str:
        return f"{_format_decimal(self.value)} '{self.unit}'"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and self.value == other.value and self.unit == other.unit

    def __hash__(self) -> int:
        return hash((self.value, self.unit))

    def __repr__(self) -> str:
        return self.cql_to_string()


# Equivalence of time-valued quantities (CQL 1.5 Appendix B, Equivalent): a UCUM duration is
# equivalent to its calendar counterpart (1 year ~ 1 'a', 1 month ~ 1 'mo'), and calendar
# durations convert with 1 year ~ 12 months ~ 365 days, 1 month ~ 30 days, 1 week = 7 days.
_UCUM_CALENDAR = {
    "a": "year",
    "mo": "month",
    "wk": "week",
    "d": "day",
    "h": "hour",
    "min": "minute",
    "s": "second",
    "ms": "millisecond",
}
_IN_MONTHS = {"year": 12, "month": 1}
_IN_MS = {
    "year": 365 * 86400000,
    "month": 30 * 86400000,
    "week": 7 * 86400000,
    "day": 86400000,
    "hour": 3600000,
    "minute": 60000,
    "second": 1000,
    "millisecond": 1,
}


def _calendar_value(q: Quantity, other: Quantity) -> decimal.Decimal | None:
    """``q`` in the unit it is compared in with ``other`` under calendar semantics: months when
    both are years or months, else milliseconds; None unless one of them is a calendar word."""
    if q.unit not in _IN_MS and other.unit not in _IN_MS:
        return None
    unit = _UCUM_CALENDAR.get(q.unit, q.unit)
    other_unit = _UCUM_CALENDAR.get(other.unit, other.unit)
    if unit not in _IN_MS or other_unit not in _IN_MS:
        return None
    if unit in _IN_MONTHS and other_unit in _IN_MONTHS:
        return q.value * _IN_MONTHS[unit]
    return q.value * _IN_MS[unit]


class Ratio:
    __slots__ = ("numerator", "denominator")

    def __init__(self, numerator: Quantity | None, denominator: Quantity | None) -> None:
        self.numerator = numerator
        self.denominator = denominator

    def cql_equal(self, other: object) -> bool | None:
        if not isinstance(other, Ratio) or None in (
            self.numerator,
            self.denominator,
            other.numerator,
            other.denominator,
        ):
            return None
        n = self.numerator.cql_equal(other.numerator)  # type: ignore[union-attr]
        d = self.denominator.cql_equal(other.denominator)  # type: ignore[union-attr]
        if n is None or d is None:
            return None
        return n and d

    def cql_equivalent(self, other: object) -> bool:
        if not isinstance(other, Ratio) or None in (
            self.numerator,
            self.denominator,
            other.numerator,
            other.denominator,
        ):
            return False
        a = self.numerator.value * other.denominator.value  # type: ignore[union-attr]
        b = other.numerator.value * self.denominator.value  # type: ignore[union-attr]
        return a == b

    def cql_to_string(self) -> str:
        assert self.numerator is not None and self.denominator is not None
        return f"{self.numerator.cql_to_string()}:{self.denominator.cql_to_string()}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ratio) and (self.numerator, self.denominator) == (
            other.numerator,
            other.denominator,
        )

    def __hash__(self) -> int:
        return hash((self.numerator, self.denominator))

    def __repr__(self) -> str:
        return self.cql_to_string()


def _format_decimal(value: decimal.Decimal) -> str:
    text = format(value.normalize(DECIMAL_CONTEXT) if value == value.to_integral_value() else value, "f")
    if "." not in text and value != value.to_integral_value():
        return text
    return text
