"""The hand-written parser: precedence, soft keywords, timing phrases, and every syntax error
of a library reported with its position."""

from __future__ import annotations

import pytest

from cds.cql.errors import CqlLoadError, CqlSyntaxError
from cds.cql.syntax import ast, parse_expression, parse_library


def test_arithmetic_precedence() -> None:
    expr = parse_expression("1 + 2 * 3 ^ 2")
    assert isinstance(expr, ast.Binary) and expr.op == "+"
    assert isinstance(expr.right, ast.Binary) and expr.right.op == "*"
    assert isinstance(expr.right.right, ast.Binary) and expr.right.right.op == "^"


@pytest.mark.parametrize(
    ("text", "top"),
    [
        ("A or B and C", "or"),
        ("A and B = C", "and"),
        ("A = B in C", "in"),
        ("A implies B or C", "implies"),
        ("A union B implies C", "union"),
        ("X is null and Y", "and"),
        ("A < B = C", "="),
    ],
)
def test_operator_levels(text: str, top: str) -> None:
    expr = parse_expression(text)
    assert isinstance(expr, ast.Binary) and expr.op == top


def test_soft_keywords_are_identifiers() -> None:
    expr = parse_expression("Encounter.period.start < start of X and value.code = code")
    assert isinstance(expr, ast.Binary)
    member = parse_expression("P.status")
    assert isinstance(member, ast.Member) and member.name == "status"


@pytest.mark.parametrize(
    ("text", "kind", "check"),
    [
        (
            "A starts 3 days or less before start of B",
            "before",
            lambda t: t.left_boundary == "start" and t.offset.value == "3" and t.offset_relation == "or less",
        ),
        ("A same day as B", "same", lambda t: t.precision == "day" and t.relation is None),
        ("A same or after B", "same", lambda t: t.relation == "or after"),
        ("A properly includes B", "includes", lambda t: t.proper),
        ("A during day of B", "included in", lambda t: t.precision == "day"),
        ("A within 3 days of B", "within", lambda t: t.offset.unit == "days"),
        ("A on or before end of B", "before", lambda t: t.inclusive),
        ("A meets before B", "meets before", lambda t: True),
        ("A overlaps after day of B", "overlaps after", lambda t: t.precision == "day"),
        ("A ends B", "ends", lambda t: True),
    ],
)
def test_timing_phrases(text: str, kind: str, check: object) -> None:
    expr = parse_expression(text)
    assert isinstance(expr, ast.Timing) and expr.kind == kind
    assert check(expr)  # type: ignore[operator]


def test_queries_and_selectors() -> None:
    expr = parse_expression(
        '[Condition: "VS"] C with [Procedure] P such that P.x = C.y where C.a is not null '
        "return Tuple { c: C, n: 1 } sort by n desc"
    )
    assert isinstance(expr, ast.Query)
    assert expr.sources[0].alias == "C" and expr.inclusions[0].kind == "with"
    assert expr.sort is not None and expr.sort[0].descending
    lit = parse_expression("Interval[@2024-01-01, @2024-02-01T10:00:00.000Z)")
    assert isinstance(lit, ast.IntervalSelector) and not lit.high_closed


def test_every_syntax_error_is_reported_with_its_position() -> None:
    text = (
        "library Broken version '1'\n"
        'define "A": 1 +\n'
        'define "B": 2\n'
        'define "C": (3\n'
        'define "D": \'unterminated\n'
    )
    with pytest.raises(CqlLoadError) as info:
        parse_library(text)
    errors = info.value.errors
    assert all(isinstance(e, CqlSyntaxError) for e in errors)
    positions = [(e.location.library, e.location.line, e.location.column) for e in errors if e.location]
    assert positions == [("Broken", 3, 1), ("Broken", 5, 1), ("Broken", 5, 13)]
    assert "expected an expression but found 'define'" in errors[0].message


def test_syntax_error_message_names_what_was_expected() -> None:
    with pytest.raises(CqlLoadError, match=r"Lib:2:20: expected '\)' but found end of text"):
        parse_library('library Lib\ndefine "X": First(1')


# What the reference translator (cql.g4) refuses, the parser refuses too: a keyword as the name a
# declaration introduces (grammar ``identifier``), and a member of a parenthesized expression or
# of a retrieve as a query source (grammar ``querySource``).
REFUSED = [
    ("parameter second Integer", "expected a parameter name but found the keyword 'second'"),
    ("parameter start Integer", "the keyword 'start'"),
    ("parameter date Integer", "the keyword 'date'"),
    ("define second: 1", "expected a definition name but found the keyword 'second'"),
    ("codesystem code: 'urn:x'", "expected a codesystem name but found the keyword 'code'"),
    ("valueset year: 'urn:x'", "the keyword 'year'"),
    ('define "X": (1) A let second: 2 return A', "expected a let name but found the keyword 'second'"),
    (
        'define "X": First(({Tuple { c: {1} }} as List<Tuple { c List<Integer> }>).c C return C)',
        "expected ')'",
    ),
    ('define "X": [Observation].code C', "unexpected 'C'"),
    ('define "X": from (X as List<Integer>).x C return C', "a query source is a retrieve"),
    ('define "X": from First({1}) C return C', "a query source is a retrieve"),
]


@pytest.mark.parametrize(("declaration", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_what_the_grammar_refuses_is_refused(declaration: str, message: str) -> None:
    with pytest.raises(CqlLoadError) as info:
        parse_library(f"library Lib\n{declaration}\n")
    assert message in str(info.value)


ACCEPTED = [
    'parameter "second" Integer',
    "parameter status String",
    "parameter value Integer",
    'define "X": (({Tuple { c: {1} }})[0].c) C return C',
    'define "X": ((X as List<Integer>)) C return C',
    'define "X": Y.z.w C return C',
    'define "X": from (Y) A, [Observation] B return A',
    'define "X": [Observation] O with (Y.z) Z such that true return O',
    'define function "F"(start Integer): start',
]


@pytest.mark.parametrize("declaration", ACCEPTED)
def test_what_the_grammar_allows_is_accepted(declaration: str) -> None:
    parse_library(f"library Lib\n{declaration}\n")
