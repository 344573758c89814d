"""The month lengths the temporal values are validated and clamped with: the proleptic
Gregorian calendar, as Python's calendar module has it, for every month of years 1-9999."""

from __future__ import annotations

import calendar

from cds.cql.runtime.temporal import days_in_month


def test_days_in_month_agrees_with_the_calendar_module() -> None:
    for year in range(1, 10000):
        for month in range(1, 13):
            assert days_in_month(year, month) == calendar.monthrange(year, month)[1], (year, month)
