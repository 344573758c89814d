"""Clinical operators (CQL 1.5 §22 "Clinical Operators"): terminology membership, value-set
expansion and age calculation.

Terminology operators take the evaluation's provider as the keyword ``terminology`` (the
compiler passes the library's :class:`~cds.cql.terminology.provider.TerminologyProvider`).
Age operators compute with ``DurationBetween`` (whole calendar periods); ``CalculateAge`` takes
the evaluation clock as the keyword ``now`` (a DateTime), using Today() for a Date birth date.
Precision names are lower-case singular (``"year"``, ``"month"``, ...).
"""

from __future__ import annotations

from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.operators.registry import lookup, operator
from cds.cql.runtime.clinical import Code, CodeSystemRef, ValueSetRef
from cds.cql.terminology.provider import TerminologyProvider

AGE_PRECISIONS = frozenset({"year", "month", "week", "day", "hour", "minute", "second"})


def _provider(terminology: TerminologyProvider | None) -> TerminologyProvider:
    if terminology is None:
        raise CqlRuntimeError("terminology operators need a terminology provider")
    return terminology


@operator("InValueSet")
def in_valueset(code: Any, valueset: ValueSetRef | None, *, terminology: TerminologyProvider | None) -> bool:
    """``code in "VS"`` for a String, Code or Concept; null code → false."""
    if code is None:
        return False
    if valueset is None:
        raise CqlRuntimeError("InValueSet: the value set is null")
    return _provider(terminology).in_valueset(code, valueset)


@operator("AnyInValueSet")
def any_in_valueset(
    codes: list[Any] | None, valueset: ValueSetRef | None, *, terminology: TerminologyProvider | None
) -> bool:
    """``codes in "VS"`` for a List of String/Code/Concept: true when any element is in it."""
    if not codes:
        return False
    return any(in_valueset(c, valueset, terminology=terminology) for c in codes)


@operator("InCodeSystem")
def in_codesystem(
    code: Any, codesystem: CodeSystemRef | None, *, terminology: TerminologyProvider | None
) -> bool:
    if code is None:
        return False
    if codesystem is None:
        raise CqlRuntimeError("InCodeSystem: the code system is null")
    return _provider(terminology).in_codesystem(code, codesystem)


@operator("AnyInCodeSystem")
def any_in_codesystem(
    codes: list[Any] | None, codesystem: CodeSystemRef | None, *, terminology: TerminologyProvider | None
) -> bool:
    if not codes:
        return False
    return any(in_codesystem(c, codesystem, terminology=terminology) for c in codes)


@operator("ExpandValueSet")
def expand_valueset(
    valueset: ValueSetRef | None, *, terminology: TerminologyProvider | None
) -> list[Code] | None:
    if valueset is None:
        return None
    return _provider(terminology).expand(valueset)


def _duration(start: Any, end: Any, precision: str) -> Any:
    if precision not in AGE_PRECISIONS:
        raise CqlRuntimeError(f"age precision {precision!r} is not one of {sorted(AGE_PRECISIONS)}")
    op = lookup("DurationBetween")
    if op is None:
        raise CqlRuntimeError("CalculateAge needs the DurationBetween operator")
    return op(start, end, precision=precision)


@operator("CalculateAgeAt")
def calculate_age_at(birth_date: Any, as_of: Any, *, precision: str) -> Any:
    """``AgeInYearsAt(asOf)`` etc.: whole ``precision`` periods from birth to ``as_of``."""
    if birth_date is None or as_of is None:
        return None
    return _duration(birth_date, as_of, precision)


@operator("CalculateAge")
def calculate_age(birth_date: Any, *, precision: str, now: Any) -> Any:
    """``AgeInYears()`` etc.: the age at the evaluation's Now() (Today() for a Date)."""
    if birth_date is None:
        return None
    as_of = now
    if type(birth_date).__name__ == "Date":
        date_from = lookup("DateFrom")
        if date_from is None:
            raise CqlRuntimeError("CalculateAge needs the DateFrom operator")
        as_of = date_from(now)
    return _duration(birth_date, as_of, precision)
