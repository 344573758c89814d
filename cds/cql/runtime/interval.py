"""CQL Interval values."""

from __future__ import annotations

from typing import Any


class Interval:
    __slots__ = ("low", "high", "low_closed", "high_closed")

    def __init__(self, low: Any, high: Any, low_closed: bool = True, high_closed: bool = True) -> None:
        self.low = low
        self.high = high
        self.low_closed = low_closed
        self.high_closed = high_closed

    def cql_equal(self, other: object) -> bool | None:
        from cds.cql.operators.interval import interval_equal

        return interval_equal(self, other)

    def cql_equivalent(self, other: object) -> bool:
        from cds.cql.operators.interval import interval_equivalent

        return interval_equivalent(self, other)

    def cql_to_string(self) -> str:
        from cds.cql.operators.type_conversion import to_string

        return (
            ("[" if self.low_closed else "(")
            + str(to_string(self.low))
            + ", "
            + str(to_string(self.high))
            + ("]" if self.high_closed else ")")
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Interval) and (self.low, self.high, self.low_closed, self.high_closed) == (
            other.low,
            other.high,
            other.low_closed,
            other.high_closed,
        )

    def __hash__(self) -> int:
        return hash((self.low, self.high, self.low_closed, self.high_closed))

    def __repr__(self) -> str:
        return "Interval" + self.cql_to_string()
