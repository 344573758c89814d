"""How ELM writes each System operator's operands (ELM JSON schema: ``UnaryExpression`` has one
``operand``, ``BinaryExpression``/``NaryExpression`` an ``operand`` array, aggregates a
``source``, and some operators named fields), and literals (``Literal`` with ``valueType``;
date/time literals as ``Date``/``DateTime``/``Time`` operators of Integer components).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from cds.cql.types.specifiers import DECIMAL, INTEGER, CqlType, NamedType, elm_name

UNARY = frozenset(
    {
        "Not", "IsNull", "IsTrue", "IsFalse", "Exists", "Negate", "Abs", "Ceiling", "Floor",
        "Truncate", "Ln", "Exp", "Successor", "Predecessor", "Upper", "Lower", "Length",
        "ToBoolean", "ToInteger", "ToLong", "ToDecimal", "ToString", "ToQuantity", "ToRatio",
        "ToDate", "ToDateTime", "ToTime", "ToConcept", "ToList", "DateFrom", "TimeFrom",
        "TimezoneOffsetFrom", "Flatten", "Distinct", "SingletonFrom", "Start", "End", "Width",
        "Size", "PointFrom", "Precision", "ConvertsToBoolean", "ConvertsToInteger",
        "ConvertsToLong", "ConvertsToDecimal", "ConvertsToString", "ConvertsToQuantity",
        "ConvertsToDate", "ConvertsToDateTime", "ConvertsToTime", "CalculateAge",
    }
)  # fmt: skip
SOURCE = frozenset(
    {
        "First", "Last", "Count", "Sum", "Min", "Max", "Avg", "Median", "Mode", "Variance",
        "PopulationVariance", "StdDev", "PopulationStdDev", "AllTrue", "AnyTrue", "Product",
        "GeometricMean",
    }
)  # fmt: skip
NAMED: dict[str, tuple[str, ...]] = {
    "Combine": ("source", "separator"),
    "Split": ("stringToSplit", "separator"),
    "SplitOnMatches": ("stringToSplit", "separatorPattern"),
    "PositionOf": ("pattern", "string"),
    "LastPositionOf": ("pattern", "string"),
    "Substring": ("stringToSub", "startIndex", "length"),
    "IndexOf": ("source", "element"),
    "Round": ("operand", "precision"),
    "Slice": ("source", "startIndex", "endIndex"),
    "DateTime": ("year", "month", "day", "hour", "minute", "second", "millisecond", "timezoneOffset"),
    "Date": ("year", "month", "day"),
    "Time": ("hour", "minute", "second", "millisecond"),
    "Message": ("source", "condition", "code", "severity", "message"),
}
NULLARY = frozenset({"Now", "Today", "TimeOfDay"})


def operator(name: str, operands: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The ELM node of System operator ``name`` applied to ``operands``."""
    node: dict[str, Any] = {"type": name}
    if name in NULLARY:
        pass
    elif name in UNARY and len(operands) == 1:
        node["operand"] = operands[0]
    elif name in SOURCE and len(operands) == 1:
        node["source"] = operands[0]
    elif name in NAMED:
        for field, value in zip(NAMED[name], operands, strict=False):
            node[field] = value
    else:
        node["operand"] = operands
    node.update(extra)
    return node


def literal(t: NamedType, value: str) -> dict[str, Any]:
    return {"type": "Literal", "valueType": elm_name(t), "value": value}


def null_as(t: CqlType, operand: dict[str, Any]) -> dict[str, Any]:
    from cds.cql.types.specifiers import to_elm

    if isinstance(t, NamedType):
        return {"type": "As", "asType": elm_name(t), "operand": operand}
    return {"type": "As", "asTypeSpecifier": to_elm(t), "operand": operand}


_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_TIME = re.compile(r"^T?(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?")
_ZONE = re.compile(r"(Z|[+-]\d{2}:\d{2})$")
_DATE_FIELDS = ("year", "month", "day")
_TIME_FIELDS = ("hour", "minute", "second", "millisecond")


_LIMITS = {"month": (1, 12), "day": (1, 31), "hour": (0, 23), "minute": (0, 59), "second": (0, 59)}


def _int(value: str, field: str = "") -> dict[str, Any]:
    number = int(value)
    low, high = _LIMITS.get(field, (0, 9999))
    if not low <= number <= high:
        raise ValueError(f"{field} {number} is out of range")
    return literal(INTEGER, str(number))


def temporal(kind: str, text: str) -> dict[str, Any]:
    """A date (``2024-01-02``), datetime (``2024-01-02T10:00:00.000Z``) or time (``T10:00``)
    literal as ELM's ``Date``/``DateTime``/``Time`` operator."""
    node: dict[str, Any] = {"type": {"date": "Date", "datetime": "DateTime", "time": "Time"}[kind]}
    rest = text
    if kind in ("date", "datetime"):
        m = _DATE.match(rest)
        if m is None:
            raise ValueError(text)
        for field, value in zip(_DATE_FIELDS, m.groups(), strict=True):
            if value is not None:
                node[field] = _int(value, field)
        rest = rest[m.end() :]
    if kind == "time" or rest.startswith("T"):
        zone = _ZONE.search(rest) if kind == "datetime" else None
        clock = rest[: zone.start()] if zone else rest
        m = _TIME.match(clock)
        if m is not None and clock not in ("", "T"):
            for field, value in zip(_TIME_FIELDS, m.groups(), strict=True):
                if value is not None:
                    node[field] = _int(value if field != "millisecond" else value.ljust(3, "0"), field)
        if zone is not None:
            offset = Decimal(0)
            if zone.group(1) != "Z":
                sign = -1 if zone.group(1)[0] == "-" else 1
                hours, minutes = zone.group(1)[1:].split(":")
                offset = sign * (Decimal(hours) + Decimal(minutes) / 60)
            node["timezoneOffset"] = literal(DECIMAL, _decimal_text(offset))
    return node


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")
