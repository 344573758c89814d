"""Type conversion operators (CQL 1.5 §9.10): ToBoolean, ToInteger, ToLong, ToDecimal,
ToString, ToQuantity, ToRatio, ToDate, ToDateTime, ToTime, ToConcept, ConvertsTo..., and
Message."""

from __future__ import annotations

import decimal
import logging
import re
from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.operators.registry import operator
from cds.cql.runtime import temporal
from cds.cql.runtime.clinical import Code, Concept
from cds.cql.runtime.quantity import Quantity, Ratio
from cds.cql.runtime.values import MAX_INTEGER, MIN_INTEGER, Long

log = logging.getLogger(__name__)
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_QUANTITY = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*(?:'([^']*)')?\s*$")


def to_string(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Long):
        return str(int(value))
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, temporal.Time):
        return value.cql_to_string().removeprefix("T")  # hh:mm:ss.fff
    method = getattr(value, "cql_to_string", None)
    if method is not None:
        return method()
    raise CqlRuntimeError(f"cannot convert a {type(value).__name__} to String")


@operator("ToString")
def ToString(value: Any) -> Any:
    return to_string(value)


@operator("ToBoolean")
def ToBoolean(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | decimal.Decimal):
        return True if value == 1 else False if value == 0 else None
    text = str(value).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


@operator("ToInteger")
def ToInteger(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int):
        return int(value) if MIN_INTEGER <= value <= MAX_INTEGER else None
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        n = int(value)
        return n if MIN_INTEGER <= n <= MAX_INTEGER else None
    if isinstance(value, decimal.Decimal):
        n = int(value)
        return n if MIN_INTEGER <= n <= MAX_INTEGER else None
    return None


@operator("ToLong")
def ToLong(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return Long(1 if value else 0)
    if isinstance(value, int):
        return Long(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return Long(int(value))
    return None


@operator("ToDecimal")
def ToDecimal(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return decimal.Decimal(1 if value else 0)
    if isinstance(value, int | decimal.Decimal):
        return decimal.Decimal(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+(\.\d+)?\s*", value):
        return decimal.Decimal(value.strip())
    return None


@operator("ToQuantity")
def ToQuantity(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Quantity):
        return value
    if isinstance(value, int | decimal.Decimal) and not isinstance(value, bool):
        return Quantity(value, "1")
    if isinstance(value, str):
        m = _QUANTITY.match(value)
        if m:
            return Quantity(decimal.Decimal(m.group(1)), m.group(2) or "1")
    return None


@operator("ToRatio")
def ToRatio(value: Any) -> Any:
    if value is None or isinstance(value, Ratio):
        return value
    if isinstance(value, str) and ":" in value:
        left, right = value.split(":", 1)
        a, b = ToQuantity(left), ToQuantity(right)
        return None if a is None or b is None else Ratio(a, b)
    return None


@operator("ToDate")
def ToDate(value: Any) -> Any:
    if value is None or isinstance(value, temporal.Date):
        return value
    if isinstance(value, temporal.DateTime):
        return value.date()
    if isinstance(value, str):
        return temporal.parse_date(value) or (lambda d: d.date() if d else None)(
            temporal.parse_datetime(value)
        )
    return None


@operator("ToDateTime")
def ToDateTime(value: Any) -> Any:
    if value is None or isinstance(value, temporal.DateTime):
        return value
    if isinstance(value, temporal.Date):
        return value.to_datetime()
    if isinstance(value, str):
        return temporal.parse_datetime(value)
    return None


@operator("ToTime")
def ToTime(value: Any) -> Any:
    if value is None or isinstance(value, temporal.Time):
        return value
    if isinstance(value, str):
        return temporal.parse_time(value)
    return None


@operator("ToConcept")
def ToConcept(value: Any) -> Any:
    if value is None or isinstance(value, Concept):
        return value
    if isinstance(value, Code):
        return Concept((value,), None)
    if isinstance(value, list):
        return Concept(tuple(value), None)
    return None


def _converts(fn: Any) -> Any:
    def test(value: Any) -> Any:
        if value is None:
            return None
        try:
            return fn(value) is not None
        except CqlRuntimeError:
            return False

    return test


for _name, _fn in (
    ("Boolean", ToBoolean),
    ("Integer", ToInteger),
    ("Long", ToLong),
    ("Decimal", ToDecimal),
    ("String", ToString),
    ("Quantity", ToQuantity),
    ("Ratio", ToRatio),
    ("Date", ToDate),
    ("DateTime", ToDateTime),
    ("Time", ToTime),
):
    operator(f"ConvertsTo{_name}")(_converts(_fn))


@operator("ConvertQuantity")
def ConvertQuantity(value: Any, unit: Any) -> Any:
    if value is None or unit is None:
        return None
    from cds.cql.runtime import ucum

    converted = ucum.convert(value.value, value.unit, unit)
    return None if converted is None else Quantity(converted, unit)


@operator("CanConvertQuantity")
def CanConvertQuantity(value: Any, unit: Any) -> Any:
    if value is None or unit is None:
        return None
    return ConvertQuantity(value, unit) is not None


@operator("Message")
def Message(
    source: Any, condition: Any = True, code: Any = None, severity: Any = None, message: Any = None
) -> Any:
    if condition is True:
        level = (severity or "Message").lower()
        if level == "error":
            raise CqlRuntimeError(f"{code}: {message}" if code else str(message))
        log.info("CQL message %s: %s", code, message)
    return source
