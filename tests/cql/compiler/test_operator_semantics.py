"""Operator semantics the official conformance suite does not pin down (or pins only one case
of): one CQL expression per row with the value its spec section gives, and the expressions that
must raise (at load or at run time). The conformance suite itself is ``tests/cql/conformance``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cds.cql.api import load_library
from cds.cql.errors import CqlError

NOW = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)


def _value(expression: str) -> Any:
    library = load_library(f"library T version '1'\ndefine R: {expression}\n")
    return library.evaluate([], now=NOW)["R"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # successor/predecessor at the value's own precision (Appendix B Successor)
        ("successor of @2014-12", "@2015-01"),
        ("predecessor of @2016-03-01", "@2016-02-29"),
        ("successor of @T10:59", "@T11:00"),
        # Low/HighBoundary: the digits not given range over 0..9; a negative value's greatest
        # completion has the least magnitude
        ("HighBoundary(-1.587, 8)", "Decimal('-1.58700000')"),
        ("LowBoundary(-1.587, 8)", "Decimal('-1.58799999')"),
        ("HighBoundary(@2016-02, 8)", "@2016-02-29"),
        ("HighBoundary(1.5, 9)", "None"),
        ("Precision(@2014-01-05)", "8"),
        # interval except: the part of the first outside the second, null when it would split
        ("Interval[1, 10] except Interval[0, 3]", "Interval[4, 10]"),
        ("Interval[1, 10] except Interval[20, 30]", "Interval[1, 10]"),
        ("Interval[1, 10] except Interval[0, 30]", "None"),
        # expand: units aligned on the start; only whole units inside the interval
        ("expand { Interval[1, 6] } per 4", "[Interval[1, 4]]"),
        ("expand Interval[1.0, 1.25]", "[Decimal('1.0'), Decimal('1.1'), Decimal('1.2')]"),
        ("expand Interval[@2018-01-01, @2018-01-20] per week", "[@2018-01-01, @2018-01-08]"),
        ("expand Interval[1 'mg', 3 'mg'] per 1 'mg'", "[1 'mg', 2 'mg', 3 'mg']"),
        # meets with unknown open boundaries: the known one bounds it
        ("Interval(null, 5] meets before Interval[7, 10]", "False"),
        ("Interval[1, 5] meets Interval(null, 10]", "None"),
        # meets/starts/ends at a precision compare the date/times cut to it
        ("Interval[@2012-01-01T10, @2012-01-05T08] meets before day of Interval[@2012-01-06T20, @2012-01-09]", "True"),
        ("Interval[@2012-01-01T10, @2012-01-05T08] meets before Interval[@2012-01-06T20, @2012-01-09T00]", "False"),
        ("Interval[@2012-01-01T10, @2012-01-05] starts day of Interval[@2012-01-01T12, @2012-01-09]", "True"),
        ("Interval[@2012-01-02, @2012-01-09T08] ends day of Interval[@2012-01-01T12, @2012-01-09T10]", "True"),
        ("Interval[@2012-01-01T10, @2012-01-05T08] properly includes day of Interval[@2012-01-01T12, @2012-01-05]", "False"),
        # timing windows may be empty (an interval selector written so would be an error)
        ("@2012-01-02 occurs less than 1 day after @2012-01-01", "False"),
        ("@2012-01-02 occurs 1 day or less on or after day of @2012-01-02T10", "True"),
        # date/time arithmetic: a finer quantity converted to the value's precision, truncated
        ("@2014 + 18 months", "@2015"),
        ("@2014-06 - 59 days", "@2014-05"),
        ("@T23:30 + 1 hour", "@T00:30"),
        # durations between imprecise date/times are uncertainties (§5.7)
        ("years between @2005 and @2010-06-15", "Interval[4, 5]"),
        ("(years between @2005 and @2010-06-15) >= 4", "True"),
        ("(years between @2005 and @2010-06-15) > 4", "None"),
        ("(years between @2005 and @2010-06-15) < 4", "False"),
        ("(years between @2005 and @2010-06-15) = 7", "False"),
        ("(years between @2005 and @2010-06-15) + 1", "Interval[5, 6]"),
        # equivalence of time-valued quantities and of decimals (Appendix B Equivalent)
        ("2 years ~ 24 'mo'", "True"),
        ("1 week ~ 7 days", "True"),
        ("1 month ~ 4 weeks", "False"),
        ("1.20 ~ 1.2", "True"),
        # quantity div/mod in the first quantity's unit
        ("1 'm' mod 30 'cm'", "0.10 'm'"),
        ("7 'g' div 2 'g'", "3 'g'"),
        # list proper containment with null elements
        ("{ 1, null } properly includes 1", "None"),
        ("{ 1, 2 } properly includes 1", "True"),
        ("{ null, 1 } properly includes null", "True"),
        # ReplaceMatches replacement syntax: $n a group, \\x the character x
        ("ReplaceMatches('a-b', '(a)-(b)', '$2\\\\$$1')", "'b$a'"),
        ("Slice({ 1, 2, 3, 4 }, 1, 3)", "[2, 3]"),
        ("ValueSet { id: 'http://example.org/vs', version: '1' } is Vocabulary", "True"),
        ("Tuple { a: 1, b: { 2, null }, c: Tuple { d: 'x' } }.descendents()", "[1, 2, Tuple { d: 'x' }, 'x']"),
    ],
)
def test_value(expression: str, expected: str) -> None:
    assert repr(_value(expression)) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "successor of maximum Date",
        "predecessor of @T00:00:00.000",
        "@2014-01-01 + 8000 years",
        "@9999-12-31T10 + 14 hours",
        "Interval[3, 3)",
        "Interval(1.0, 1.00000001)",
        "minimum String",
        "width of Interval[@2014, @2015]",
        "0.123456789",
        "100000000000000000000.0",
        "9223372036854775808L",
        "Tuple { a: 1 } = Tuple { b: 1 }",
        "(days between @2014-01-15 and @2014-02) div 2",
        "ValueSet { id: 'x', name: 'X' }",
        "collapse { Interval[1, 2], Interval[4, 5] } per 2",
    ],
)
def test_error(expression: str) -> None:
    with pytest.raises(CqlError):
        _value(expression)


def test_descendents_of_a_resource() -> None:
    library = load_library(
        "library T version '1'\nusing FHIR version '4.0.1'\ncontext Patient\n"
        "define D: (First([Observation])).descendents()\n"
    )
    observation = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "valueQuantity": {"value": 5, "unit": "mg"},
        "_status": {"extension": []},
    }
    result = library.evaluate([{"resourceType": "Patient", "id": "p"}, observation], now=NOW)["D"]
    assert [repr(v) for v in result] == ["'o1'", "'final'", "FhirNode(Quantity)", "Decimal('5')", "'mg'"]
