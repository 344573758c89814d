"""CQL Date, DateTime and Time values: components to a precision, timezone offset, comparison
with uncertainty (CQL 1.5 §5 "Date/Time comparison").

Components are kept as a tuple ``(year, month, day, hour, minute, second, millisecond)`` cut at
the value's precision. DateTimes carry an offset in hours (Decimal) and are compared after
normalising to UTC; comparing two values of different precision gives null when the answer
depends on the missing components.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

DATE_PRECISIONS: tuple[str, ...] = ("year", "month", "day")
DATETIME_PRECISIONS: tuple[str, ...] = ("year", "month", "day", "hour", "minute", "second", "millisecond")
TIME_PRECISIONS: tuple[str, ...] = ("hour", "minute", "second", "millisecond")
_DT_RE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(?:(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_TIME_RE = re.compile(r"^T?(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$")

# The evaluation request's time; Now()/Today()/TimeOfDay() and offset-less literals use it.
EVALUATION_TIME: ContextVar[dt.datetime | None] = ContextVar("cql_evaluation_time", default=None)


_ZERO = decimal.Decimal(0)


def _default_offset() -> decimal.Decimal:
    now = EVALUATION_TIME.get()
    if now is None:
        return _ZERO
    offset = now.utcoffset()
    if not offset:  # none, or UTC
        return _ZERO
    return _hours(offset)


@lru_cache(maxsize=64)
def _hours(offset: dt.timedelta) -> decimal.Decimal:
    return decimal.Decimal(offset.total_seconds()) / decimal.Decimal(3600)


def _ms(text: str | None) -> int | None:
    if text is None:
        return None
    return int((text + "00")[:3])


_TIME_LIMITS = (23, 59, 59, 999)


def _valid(parts: list[int]) -> bool:
    n = len(parts)
    year = parts[0]
    if not 1 <= year <= 9999:
        return False
    if n > 1 and not 1 <= parts[1] <= 12:
        return False
    if n > 2 and not 1 <= parts[2] <= days_in_month(year, parts[1]):
        return False
    for i in range(3, min(n, 7)):
        if not 0 <= parts[i] <= _TIME_LIMITS[i - 3]:
            return False
    return True


_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    """Days in ``month`` (1-12) of the proleptic Gregorian ``year``."""
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]


class _Temporal:
    __slots__ = ("parts",)
    PRECISIONS: tuple[str, ...] = ()
    parts: tuple[int, ...]

    @property
    def precision(self) -> str:
        return self.PRECISIONS[len(self.parts) - 1]

    def precision_name(self) -> str:
        return self.precision

    def _key(self) -> tuple[int, ...]:
        return self.parts

    def order_key(self) -> tuple[int, ...]:
        """The components compared (a DateTime's normalised to UTC). Two values of one type whose
        keys have the same length compare exactly as their keys do (no uncertainty)."""
        return self._key()

    def _compare_parts(self, a: tuple[int, ...], b: tuple[int, ...], upto: int | None) -> int | None:
        n = min(len(a), len(b))
        if upto is not None:
            n = min(n, upto)
        for x, y in zip(a[:n], b[:n], strict=True):
            if x != y:
                return -1 if x < y else 1
        if upto is not None and len(a) >= upto and len(b) >= upto:
            return 0
        if len(a) == len(b):
            return 0
        return None

    def cql_compare(self, other: object, precision: str | None = None) -> int | None:
        if type(other) is not type(self):
            return None
        assert isinstance(other, _Temporal)
        upto = None if precision is None else self._index(precision) + 1
        return self._compare_parts(self._key(), other._key(), upto)

    def _index(self, precision: str) -> int:
        if precision == "week":
            precision = "day"
        return self.PRECISIONS.index(precision) if precision in self.PRECISIONS else len(self.PRECISIONS) - 1

    def cql_equal(self, other: object) -> bool | None:
        c = self.cql_compare(other)
        return None if c is None else c == 0

    def cql_equivalent(self, other: object) -> bool:
        if type(other) is not type(self):
            return False
        assert isinstance(other, _Temporal)
        return len(self.parts) == len(other.parts) and self.cql_compare(other) == 0

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._key() == other._key() and self.parts == other.parts

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __repr__(self) -> str:
        return "@" + self.cql_to_string()

    def cql_to_string(self) -> str:
        raise NotImplementedError

    def shifted(self, units: int) -> Any:
        """This value moved by ``units`` steps of its own precision (the successor is
        ``shifted(1)``), or None when the result leaves the type's range."""
        parts = step_parts(self.parts, units, isinstance(self, Time))
        return None if parts is None else self.with_parts(parts)

    def with_parts(self, parts: tuple[int, ...]) -> Any:
        raise NotImplementedError

    def successor(self) -> Any:
        return self.shifted(1)

    def predecessor(self) -> Any:
        return self.shifted(-1)


def step_parts(parts: tuple[int, ...], units: int, is_time: bool) -> tuple[int, ...] | None:
    """Components ``parts`` moved by ``units`` of their last (finest) component, carrying into
    the coarser ones with calendar rules; None when out of range (years 1-9999, a day's times)."""
    n = len(parts)
    if is_time:
        scale = (3600000, 60000, 1000, 1)[n - 1]
        full = (list(parts) + [0, 0, 0])[:4]
        total = (full[0] * 3600 + full[1] * 60 + full[2]) * 1000 + full[3] + units * scale
        if not 0 <= total < 86400000:
            return None
        return (total // 3600000, total // 60000 % 60, total // 1000 % 60, total % 1000)[:n]
    if n == 1:
        year = parts[0] + units
        return (year,) if 1 <= year <= 9999 else None
    if n == 2:
        year, month0 = divmod(parts[0] * 12 + parts[1] - 1 + units, 12)
        return (year, month0 + 1) if 1 <= year <= 9999 else None
    full = (list(parts) + [0, 0, 0, 0])[:7]
    try:
        moment = dt.datetime(full[0], full[1], full[2], full[3], full[4], full[5], full[6] * 1000)
        moment += [
            dt.timedelta(days=units),
            dt.timedelta(hours=units),
            dt.timedelta(minutes=units),
            dt.timedelta(seconds=units),
            dt.timedelta(milliseconds=units),
        ][n - 3]
    except OverflowError:
        return None
    moved = (
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond // 1000,
    )
    return moved[:n]


def filled(value: Any, depth: int, high: bool) -> Any:
    """``value`` with its missing components down to ``depth`` set to their least (or greatest)
    values: the earliest (latest) moment it may stand for at that precision."""
    parts = list(value.parts)
    is_time = isinstance(value, Time)
    while len(parts) < depth:
        i = len(parts) + (3 if is_time else 0)  # index in year..millisecond
        if not high:
            parts.append((1, 1, 1, 0, 0, 0, 0)[i])
        elif i == 2:
            parts.append(days_in_month(parts[0], parts[1]))
        else:
            parts.append((9999, 12, 31, 23, 59, 59, 999)[i])
    return value.with_parts(tuple(parts))


class Date(_Temporal):
    __slots__ = ()
    PRECISIONS = DATE_PRECISIONS

    def __init__(self, *parts: int) -> None:
        self.parts = tuple(parts)

    def cql_to_string(self) -> str:
        return _date_text(self.parts)

    def with_parts(self, parts: tuple[int, ...]) -> Date:
        return Date(*parts)

    def to_datetime(self) -> DateTime:
        return DateTime(self.parts, _default_offset())


class DateTime(_Temporal):
    __slots__ = ("offset", "_utc")
    PRECISIONS = DATETIME_PRECISIONS

    def __init__(self, parts: tuple[int, ...], offset: decimal.Decimal | None) -> None:
        self.parts = tuple(parts)
        self.offset = _default_offset() if offset is None else offset
        self._utc = self._normalise()

    def _normalise(self) -> tuple[int, ...]:
        if len(self.parts) < 4 or not self.offset:
            return self.parts
        p = list(self.parts) + [0] * (7 - len(self.parts))
        moment = dt.datetime(p[0], p[1], p[2], p[3], p[4], p[5], p[6] * 1000)
        try:
            moment -= dt.timedelta(hours=float(self.offset))
        except OverflowError:
            return self.parts
        full = (
            moment.year,
            moment.month,
            moment.day,
            moment.hour,
            moment.minute,
            moment.second,
            moment.microsecond // 1000,
        )
        return full[: len(self.parts)]

    def _key(self) -> tuple[int, ...]:
        return self._utc

    def cql_to_string(self) -> str:
        p = self.parts
        text = _date_text(p[:3])
        if len(p) > 3:
            text += _time_text(p[3:])
        if len(p) > 3:
            minutes = int(self.offset * 60)
            sign = "-" if minutes < 0 else "+"
            text += f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        return text

    def date(self) -> Date:
        return Date(*self.parts[:3])

    def with_parts(self, parts: tuple[int, ...]) -> DateTime:
        return DateTime(parts, self.offset)


class Time(_Temporal):
    __slots__ = ()
    PRECISIONS = TIME_PRECISIONS

    def __init__(self, *parts: int) -> None:
        self.parts = tuple(parts)

    def cql_to_string(self) -> str:
        return _time_text(self.parts)

    def with_parts(self, parts: tuple[int, ...]) -> Time:
        return Time(*parts)


def _date_text(p: tuple[int, ...]) -> str:
    return "-".join([f"{p[0]:04d}", *(f"{v:02d}" for v in p[1:3])])


def _time_text(p: tuple[int, ...]) -> str:
    text = "T" + ":".join(f"{v:02d}" for v in p[:3])
    return text + (f".{p[3]:03d}" if len(p) > 3 else "")


def parse_date(text: str) -> Date | None:
    m = _DATE_RE.match(text)
    if not m:
        return None
    parts = [int(g) for g in m.groups() if g is not None]
    return Date(*parts) if _valid(parts) else None


def parse_datetime(text: str) -> DateTime | None:
    m = _DT_RE.match(text)
    if not m:
        return None
    year, month, day, hour, minute, second, frac, tz = m.groups()
    parts = [int(x) for x in (year, month, day, hour, minute, second) if x is not None]
    if frac is not None:
        parts.append(_ms(frac) or 0)
    if not _valid(parts):
        return None
    offset: decimal.Decimal | None = None
    if tz == "Z":
        offset = decimal.Decimal(0)
    elif tz:
        sign = -1 if tz[0] == "-" else 1
        offset = sign * (decimal.Decimal(int(tz[1:3])) + decimal.Decimal(int(tz[4:6])) / 60)
    return DateTime(tuple(parts), offset)


def parse_time(text: str) -> Time | None:
    m = _TIME_RE.match(text)
    if not m:
        return None
    hour, minute, second, frac = m.groups()
    parts = [int(x) for x in (hour, minute, second) if x is not None]
    if frac is not None:
        parts.append(_ms(frac) or 0)
    if not all(0 <= v <= lim for v, lim in zip(parts, (23, 59, 59, 999), strict=False)):
        return None
    return Time(*parts)


def from_python(moment: dt.datetime) -> DateTime:
    offset = moment.utcoffset()
    hours = decimal.Decimal(0) if offset is None else decimal.Decimal(offset.total_seconds()) / 3600
    parts = (
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond // 1000,
    )
    return DateTime(parts, hours)


def now() -> DateTime:
    moment = EVALUATION_TIME.get()
    if moment is None:
        moment = dt.datetime.now(dt.UTC)
    return from_python(moment)


def is_temporal(value: Any) -> bool:
    return isinstance(value, _Temporal)
