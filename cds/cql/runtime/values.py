"""Runtime representation of the simple CQL System values.

| CQL type        | Python value                                       |
|-----------------|----------------------------------------------------|
| null            | ``None``                                           |
| Boolean         | ``bool``                                           |
| Integer         | ``int`` (never ``bool``)                           |
| Long            | :class:`Long` (an ``int`` subclass)                |
| Decimal         | ``decimal.Decimal``                                |
| String          | ``str``                                            |
| List<T>         | ``list``                                           |
| Tuple           | :class:`Tuple` (a ``dict`` of element name → value) |

Date, DateTime and Time live in ``temporal``, Quantity and Ratio in ``quantity``, Interval in
``interval``, Code/Concept/ValueSet/CodeSystem in ``clinical``, FHIR data in ``fhir``.
"""

from __future__ import annotations

import decimal
from typing import Any

# CQL Decimal: 28 digits of precision, 8 digits of scale (the spec's minimum).
DECIMAL_CONTEXT = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_UP)
DECIMAL_SCALE = 8
MIN_INTEGER = -(2**31)
MAX_INTEGER = 2**31 - 1
MIN_LONG = -(2**63)
MAX_LONG = 2**63 - 1
MAX_DECIMAL = decimal.Decimal("99999999999999999999.99999999")
MIN_DECIMAL = -MAX_DECIMAL


# Calendar duration words (singular and plural) → their precision name.
CALENDAR_WORDS: dict[str, str] = {
    word: unit
    for unit in ("year", "month", "week", "day", "hour", "minute", "second", "millisecond")
    for word in (unit, unit + "s")
}


class Long(int):
    """A CQL Long. Arithmetic on it must re-wrap results with ``Long(...)``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}L"


class Tuple(dict[str, Any]):
    """A CQL Tuple: element name → value. Equality is structural (see comparison)."""

    __slots__ = ()

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}: {v!r}" for k, v in self.items())
        return "Tuple { " + inner + " }"
