"""Date/time operators (CQL 1.5 §9.7): constructors, component extraction, arithmetic with
temporal quantities (calendar semantics), DurationBetween and DifferenceBetween."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.operators.registry import operator
from cds.cql.runtime import temporal
from cds.cql.runtime.quantity import Quantity

_UNITS = {
    "year": "year",
    "years": "year",
    "a": "year",
    "month": "month",
    "months": "month",
    "mo": "month",
    "week": "week",
    "weeks": "week",
    "wk": "week",
    "day": "day",
    "days": "day",
    "d": "day",
    "hour": "hour",
    "hours": "hour",
    "h": "hour",
    "minute": "minute",
    "minutes": "minute",
    "min": "minute",
    "second": "second",
    "seconds": "second",
    "s": "second",
    "millisecond": "millisecond",
    "milliseconds": "millisecond",
    "ms": "millisecond",
}


def _check(parts: list[int], kind: str) -> None:
    if parts and not 1 <= parts[0] <= 9999:
        raise CqlRuntimeError(f"{kind} year {parts[0]} is out of range")


@operator("Date")
def Date(*parts: Any) -> Any:
    values = [p for p in parts if p is not None]
    if not values:
        return None
    _check(values, "Date")
    text = "-".join([f"{values[0]:04d}"] + [f"{v:02d}" for v in values[1:]])
    value = temporal.parse_date(text)
    if value is None:
        raise CqlRuntimeError(f"invalid date {text}")
    return value


@operator("DateTime")
def DateTime(*parts: Any) -> Any:
    values = list(parts[:7])
    offset = parts[7] if len(parts) > 7 else None
    present = []
    for v in values:
        if v is None:
            break
        present.append(int(v))
    if not present:
        return None
    _check(present, "DateTime")
    probe = present + [1, 1, 0, 0, 0, 0][len(present) - 1 :]
    try:
        dt.datetime(probe[0], probe[1], probe[2], probe[3], probe[4], probe[5], probe[6] * 1000)
    except (ValueError, IndexError) as exc:
        raise CqlRuntimeError(f"invalid datetime components {present}") from exc
    return temporal.DateTime(tuple(present), None if offset is None else decimal.Decimal(offset))


@operator("Time")
def Time(*parts: Any) -> Any:
    present = []
    for v in parts:
        if v is None:
            break
        present.append(int(v))
    if not present:
        return None
    return temporal.Time(*present)


@operator("DateFrom")
def DateFrom(value: Any) -> Any:
    if value is None:
        return None
    return value.date() if isinstance(value, temporal.DateTime) else value


@operator("TimeFrom")
def TimeFrom(value: Any) -> Any:
    if value is None or len(value.parts) < 4:
        return None
    return temporal.Time(*value.parts[3:])


@operator("TimezoneOffsetFrom")
def TimezoneOffsetFrom(value: Any) -> Any:
    return None if value is None else value.offset


@operator("DateTimeComponentFrom")
def DateTimeComponentFrom(value: Any, precision: str | None = None) -> Any:
    if value is None or precision is None:
        return None
    names = value.PRECISIONS
    if precision not in names:
        raise CqlRuntimeError(f"{type(value).__name__} has no {precision} component")
    index = names.index(precision)
    return value.parts[index] if index < len(value.parts) else None


def _python(value: Any) -> dt.datetime:
    p = (
        list(value.parts) + [1, 1, 0, 0, 0, 0][len(value.parts) - 1 :]
        if len(value.parts) < 7
        else list(value.parts)
    )
    p = (p + [0] * 7)[:7]
    if isinstance(value, temporal.Time):
        t = (list(value.parts) + [0, 0, 0, 0])[:4]
        return dt.datetime(2000, 1, 1, t[0], t[1], t[2], t[3] * 1000)
    return dt.datetime(p[0], p[1] or 1, p[2] or 1, p[3], p[4], p[5], p[6] * 1000)


# Calendar duration semantics (CQL 1.5 §5.6 and Appendix B Equivalent): a unit in the next
# coarser one. Years and months in days follow the spec's 1 year ~ 365 days, 1 month ~ 30 days.
_IN_UNITS = {
    ("year", "month"): 12,
    ("year", "day"): 365,
    ("month", "day"): 30,
    ("day", "hour"): 24,
    ("hour", "minute"): 60,
    ("minute", "second"): 60,
    ("second", "millisecond"): 1000,
}
_CHAIN = ("year", "month", "day", "hour", "minute", "second", "millisecond")


def _per(coarse: str, fine: str) -> int:
    """How many ``fine`` units make one ``coarse`` unit (``fine`` finer than ``coarse``)."""
    direct = _IN_UNITS.get((coarse, fine))
    if direct is not None:
        return direct
    if coarse in ("year", "month") and fine not in ("year", "month"):
        return _IN_UNITS[(coarse, "day")] * _per("day", fine)
    i = _CHAIN.index(coarse)
    return _IN_UNITS[(coarse, _CHAIN[i + 1])] * _per(_CHAIN[i + 1], fine)


def add_quantity(value: Any, q: Quantity) -> Any:
    """A Date/DateTime/Time plus a temporal quantity: calendar arithmetic (month ends clamp); a
    quantity finer than the value is first converted to the value's precision, truncated
    (CQL 1.5 §5.6.2); a result out of the type's range is an error."""
    unit = _UNITS.get(q.unit)
    if unit is None:
        raise CqlRuntimeError(f"cannot add {q.unit!r} to a {type(value).__name__}")
    amount = int(q.value)
    if unit == "week":
        unit, amount = "day", amount * 7
    names = value.PRECISIONS
    if unit not in names:
        raise CqlRuntimeError(f"cannot add {unit}s to a {type(value).__name__}")
    precision = names[len(value.parts) - 1]
    if names.index(unit) > names.index(precision):
        per = _per(precision, unit)
        amount = abs(amount) // per * (1 if amount >= 0 else -1)
        unit = precision
    if isinstance(value, temporal.Time):
        shifted = value.with_parts(value.parts[: names.index(unit) + 1]).shifted(amount)
        if shifted is None:  # a Time wraps around midnight
            full = (list(value.parts) + [0, 0, 0])[:4]
            scale = (3600000, 60000, 1000, 1)[names.index(unit)]
            total = ((full[0] * 3600 + full[1] * 60 + full[2]) * 1000 + full[3] + amount * scale) % 86400000
            moved = (total // 3600000, total // 60000 % 60, total // 1000 % 60, total % 1000)
            return temporal.Time(*moved[: len(value.parts)])
        return temporal.Time(*(tuple(shifted.parts) + tuple(value.parts[len(shifted.parts) :])))
    parts = list(value.parts)
    if unit in ("year", "month"):
        months = amount * (12 if unit == "year" else 1)
        year, month = parts[0], parts[1] if len(parts) > 1 else 1
        year, month0 = divmod(year * 12 + (month - 1) + months, 12)
        if not 1 <= year <= 9999:
            raise CqlRuntimeError(f"{value!r} + {q.value} {q.unit}: the year {year} is out of range")
        parts[0] = year
        if len(parts) > 1:
            parts[1] = month0 + 1
        if len(parts) > 2:
            parts[2] = min(parts[2], temporal.days_in_month(year, month0 + 1))
        return _rebuild(value, parts)
    # days and finer: move the components down to the unit, keep the finer ones
    depth = names.index(unit) + 1
    moved_parts = temporal.step_parts(tuple(parts[:depth]), amount, False)
    if moved_parts is None:
        raise CqlRuntimeError(f"{value!r} + {q.value} {q.unit}: the result is out of range")
    return _rebuild(value, list(moved_parts) + parts[depth:])


def _rebuild(value: Any, parts: list[int]) -> Any:
    if isinstance(value, temporal.DateTime):
        return temporal.DateTime(tuple(parts), value.offset)
    return type(value)(*parts)


_ORDER = ("year", "month", "week", "day", "hour", "minute", "second", "millisecond")


# The components a duration in each unit needs (year/month/week/day: to the day).
_NEEDED = {"year": 3, "month": 3, "week": 3, "day": 3, "hour": 4, "minute": 5, "second": 6, "millisecond": 7}
_MS_PER = {"week": 604800000, "day": 86400000, "hour": 3600000, "minute": 60000, "second": 1000, "millisecond": 1}


@operator("DurationBetween")
def DurationBetween(a: Any, b: Any, precision: str | None = None) -> Any:
    """Whole calendar units from ``a`` to ``b``. When an operand lacks components the unit
    needs, the answer is an uncertainty (CQL 1.5 §5.7): the range between the least and greatest
    durations the operands allow, as an Interval (or the Integer, when both ends agree)."""
    if a is None or b is None or precision is None:
        return None
    if isinstance(a, temporal.Date) and isinstance(b, temporal.DateTime):
        a = a.to_datetime()
    if isinstance(b, temporal.Date) and isinstance(a, temporal.DateTime):
        b = b.to_datetime()
    if isinstance(a, temporal.Time):
        need = temporal.TIME_PRECISIONS.index(precision) + 1 if precision in temporal.TIME_PRECISIONS else 4
    else:
        need = min(_NEEDED[precision], len(a.PRECISIONS))
    if len(a.parts) >= need and len(b.parts) >= need:
        return _duration(a, b, precision)
    least = _duration(temporal.filled(a, need, True), temporal.filled(b, need, False), precision)
    most = _duration(temporal.filled(a, need, False), temporal.filled(b, need, True), precision)
    if least == most:
        return least
    from cds.cql.runtime.interval import Interval

    return Interval(least, most, True, True)


def _duration(a: Any, b: Any, precision: str) -> int:
    pa, pb = _python_utc(a), _python_utc(b)
    if precision in ("year", "month"):
        months = (pb.year - pa.year) * 12 + (pb.month - pa.month)
        rest_b = (pb.day, pb.hour, pb.minute, pb.second, pb.microsecond)
        rest_a = (pa.day, pa.hour, pa.minute, pa.second, pa.microsecond)
        if months > 0 and rest_b < rest_a:
            months -= 1
        elif months < 0 and rest_b > rest_a:
            months += 1
        return (
            months // 12
            if precision == "year" and months >= 0
            else int(months / 12)
            if precision == "year"
            else months
        )
    delta = pb - pa
    ms = (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    whole = abs(ms) // _MS_PER[precision]
    return whole if ms >= 0 else -whole


@operator("DifferenceBetween")
def DifferenceBetween(a: Any, b: Any, precision: str | None = None) -> Any:
    if a is None or b is None or precision is None:
        return None
    pa, pb = _python_utc(a), _python_utc(b)
    if precision == "year":
        return pb.year - pa.year
    if precision == "month":
        return (pb.year - pa.year) * 12 + pb.month - pa.month
    truncate = {"week": "day", "day": "day", "hour": "hour", "minute": "minute", "second": "second"}.get(
        precision
    )
    if truncate == "day":
        da, db = (
            pa.replace(hour=0, minute=0, second=0, microsecond=0),
            pb.replace(hour=0, minute=0, second=0, microsecond=0),
        )
        days = (db - da).days
        return days // 7 if precision == "week" else days
    return DurationBetween(a, b, precision)


def _python_utc(value: Any) -> dt.datetime:
    moment = _python(value)
    if isinstance(value, temporal.DateTime) and len(value.parts) > 3 and value.offset:
        moment -= dt.timedelta(hours=float(value.offset))
    return moment
