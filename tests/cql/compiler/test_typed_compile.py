"""The closure compiler driven by the typed walk's static types: conversions, overloads and
specialised operators decided at load; the run-time dispatch sites left are listed; the typed
and untyped paths agree (null semantics included)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cds.cql import api
from cds.cql.api import load_library
from cds.cql.compiler import compile_library
from cds.cql.compiler.static import GUARD, NONE, RUNTIME, TO_SYSTEM, conversion_plan, operand_kind
from cds.cql.errors import CqlRuntimeError
from cds.cql.operators import registry
from cds.cql.operators.specialised import _TABLE, specialised
from cds.cql.runtime.interval import Interval
from cds.cql.runtime.quantity import Quantity
from cds.cql.runtime.temporal import Date, DateTime
from cds.cql.syntax import parse_library
from cds.cql.terminology.folder import FolderTerminology
from cds.cql.types.specifiers import ChoiceType, IntervalType, ListType, NamedType

ROOT = Path(__file__).resolve().parents[3]
CQL = ROOT / "cql"
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
PATIENT = {"resourceType": "Patient", "id": "p"}


# ---------------------------------------------------------------- the libraries we ship
@pytest.mark.parametrize("name", ["DLIMedicalNecessity.cql", "DLIPrepopulation.cql"])
def test_shipped_libraries_compile_typed_without_run_time_dispatch(name: str) -> None:
    lib = load_library(CQL / name, library_dirs=[CQL], terminology=FolderTerminology(CQL / "valuesets"))
    libraries = [lib.compiled, *(i for i in lib.compiled.includes.values() if hasattr(i, "dispatch_sites"))]
    for compiled in libraries:
        assert compiled.typed, compiled.name
        assert compiled.dispatch_sites == [], compiled.name


def test_untyped_library_reports_nothing_typed() -> None:
    compiled = compile_library(parse_library("library U\ndefine X: 1 + 2\n"), resolver=None)
    assert not compiled.typed


def test_dispatch_sites_name_what_is_left_to_run_time() -> None:
    lib = load_library(
        "library T\nusing FHIR version '4.0.1'\ninclude FHIRHelpers version '4.0.1'\ncontext Patient\n"
        'define "V": First([Observation]).value\n'
        'define "E": "V" ~ "V"\n'
        'define "Q": ("V" as Quantity) > 5 \'mg\'\n'
    )
    assert lib.compiled.typed
    assert len(lib.compiled.dispatch_sites) == 2
    assert all(
        s.startswith("T:6:") and "Equivalent: conversion of argument" in s
        for s in lib.compiled.dispatch_sites
    )
    assert "Choice<FHIR.Quantity" in lib.compiled.dispatch_sites[0]


# ---------------------------------------------------------------- conversions
@pytest.mark.parametrize(
    ("t", "plan"),
    [
        (NamedType("FHIR.Quantity"), TO_SYSTEM),
        (NamedType("FHIR.Age"), TO_SYSTEM),
        (NamedType("FHIR.CodeableConcept"), TO_SYSTEM),
        (ListType(NamedType("FHIR.Coding")), TO_SYSTEM),
        (NamedType("FHIR.Period"), TO_SYSTEM),
        (NamedType("FHIR.string"), NONE),
        (NamedType("FHIR.ObservationStatus"), NONE),
        (NamedType("FHIR.dateTime"), NONE),
        (NamedType("FHIR.Observation"), NONE),
        (NamedType("System.Integer"), NONE),
        (IntervalType(NamedType("System.DateTime")), NONE),
        (NamedType("System.Quantity"), GUARD),
        (NamedType("FHIR.Element"), RUNTIME),
        (NamedType("System.Any"), RUNTIME),
        (ChoiceType((NamedType("FHIR.Quantity"), NamedType("FHIR.string"))), RUNTIME),
        (None, RUNTIME),
    ],
)
def test_conversion_plan_from_the_static_type(t: Any, plan: int) -> None:
    assert conversion_plan(t) == plan


def test_operand_kind() -> None:
    assert operand_kind(NamedType("FHIR.positiveInt")) == "Integer"
    assert operand_kind(NamedType("FHIR.code")) == "String"
    assert operand_kind(ListType(NamedType("System.String"))) == "List<String>"
    assert operand_kind(NamedType("FHIR.Quantity")) is None
    assert operand_kind(None) is None


# ---------------------------------------------------------------- specialised operators
VALUES: dict[str, list[Any]] = {
    "Integer": [None, 0, 1, -7, 2147483647, -2147483648],
    "Decimal": [
        None,
        Decimal("0"),
        Decimal("1.5"),
        Decimal("-2.00000001"),
        Decimal("99999999999999999999.99999999"),
    ],
    "String": [None, "", "a", "B", "abc", "Abc"],
    "Boolean": [None, True, False],
    "Date": [None, Date(2024, 1, 1), Date(2024, 1), Date(2024, 2, 3), Date(2024)],
    "DateTime": [
        None,
        DateTime((2024, 1, 1, 10), Decimal(0)),
        DateTime((2024, 1, 1), Decimal(0)),
        DateTime((2024, 1, 1, 10, 0, 0, 0), Decimal(0)),
        DateTime((2024, 1, 1, 12, 0, 0, 0), Decimal(2)),
    ],
}
# Values of another representation than the static type says (the specialised operator must
# hand them to the generic one): an uncertainty where an Integer was expected, an Integer where
# a Decimal was, a Date where a DateTime was.
STRAYS: dict[str, list[Any]] = {
    "Integer": [Interval(1, 3, True, True)],
    "Decimal": [2],
    "Date": [DateTime((2024, 1, 1), Decimal(0))],
    "DateTime": [Date(2024, 1, 1)],
}


def _answer(fn: Any, *args: Any) -> Any:
    try:
        return ("value", fn(*args))
    except CqlRuntimeError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize(("name", "kind"), sorted(_TABLE))
def test_specialised_operator_agrees_with_the_generic_one(name: str, kind: str) -> None:
    fast = specialised(name, (kind, kind))
    generic = registry.lookup(name)
    assert fast is not None and generic is not None
    values = VALUES[kind] + STRAYS.get(kind, [])
    for a, b in itertools.product(values, repeat=2):
        assert _answer(fast, a, b) == _answer(generic, a, b), (name, a, b)


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_specialised_membership_agrees_with_the_generic_one(kind: str) -> None:
    values = VALUES[kind]
    lists: list[Any] = [None, [], values, [v for v in values if v is not None], [None]]
    fast_in = specialised("In", (kind, f"List<{kind}>"))
    fast_contains = specialised("Contains", (f"List<{kind}>", kind))
    assert fast_in is not None and fast_contains is not None
    generic_in, generic_contains = registry.lookup("In"), registry.lookup("Contains")
    assert generic_in is not None and generic_contains is not None
    for x, items in itertools.product(values, lists):
        assert fast_in(x, items) == generic_in(x, items), (x, items)
        assert fast_contains(items, x) == generic_contains(items, x), (items, x)


def test_no_specialisation_for_mixed_or_unknown_kinds() -> None:
    assert specialised("Add", ("Integer", "Decimal")) is None
    assert specialised("Add", (None, "Integer")) is None
    assert specialised("Less", ("Boolean", "Boolean")) is None
    assert specialised("In", ("Integer", "List<String>")) is None


# ---------------------------------------------------------------- typed and untyped paths agree
OPERATORS = ["+", "-", "*", "=", "!=", "<", "<=", ">", ">="]
TYPES = {
    "Integer": ["null", "0", "1", "-7", "2147483647"],
    "Decimal": ["null", "0.0", "1.5", "-2.00000001"],
    "String": ["null", "''", "'a'", "'B'"],
    "Boolean": ["null", "true", "false"],
    "Date": ["null", "@2024-01-01", "@2024-01", "@2024-02-03"],
    "DateTime": ["null", "@2024-01-01T10", "@2024-01-01", "@2024-01-01T10:00:00.000Z"],
}
ALLOWED = {
    "Integer": OPERATORS,
    "Decimal": ["+", "-", "=", "!=", "<", "<=", ">", ">="],
    "String": ["+", "=", "!=", "<", "<=", ">", ">="],
    "Boolean": ["=", "!="],
    "Date": ["=", "!=", "<", "<=", ">", ">="],
    "DateTime": ["=", "!=", "<", "<=", ">", ">="],
}


def _library(kind: str) -> str:
    lines = ["library Agree"]
    for i, a in enumerate(TYPES[kind]):
        lines.append(f'define "v{i}": {a} as {kind}' if a == "null" else f'define "v{i}": {a}')
    for op in ALLOWED[kind]:
        for i, j in itertools.product(range(len(TYPES[kind])), repeat=2):
            lines.append(f'define "{op} {i} {j}": "v{i}" {op} "v{j}"')
    lines.append('define "in": "v1" in { "v0", "v1", "v2" }')
    lines.append('define "contains": { "v0", "v2" } contains "v1"')
    return "\n".join(lines) + "\n"


def _both_paths(text: str) -> tuple[Any, Any]:
    ast = parse_library(text)
    typing = api._type_check(ast, [], None, (False, False))
    assert typing.error is None and typing.static_types is not None
    static_types = typing.static_types
    typed = compile_library(ast, resolver=api.LibraryResolver([], None), static_types=static_types)
    untyped = compile_library(ast, resolver=api.LibraryResolver([], None))
    return api.Library(typed, None), api.Library(untyped, None)


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_typed_and_untyped_paths_agree(kind: str) -> None:
    typed, untyped = _both_paths(_library(kind))
    assert typed.compiled.typed and typed.compiled.dispatch_sites == []
    assert typed.evaluate([PATIENT], now=NOW).values == untyped.evaluate([PATIENT], now=NOW).values


def test_overloads_are_resolved_by_the_static_types() -> None:
    text = (
        "library O\n"
        "define function F(x Integer): 'int'\n"
        "define function F(x Decimal): 'dec'\n"
        'define "null as Decimal": F(null as Decimal)\n'
        'define "Decimal": F(1.5)\n'
        'define "Integer": F(1)\n'
    )
    typed, untyped = _both_paths(text)
    assert typed.evaluate([PATIENT], now=NOW).values == {
        "null as Decimal": "dec",
        "Decimal": "dec",
        "Integer": "int",
    }
    # At run time a null matches every overload: the first one was taken.
    assert untyped.evaluate([PATIENT], now=NOW)["null as Decimal"] == "int"


def test_fhir_conversions_are_decided_at_load() -> None:
    text = (
        "library C\nusing FHIR version '4.0.1'\ninclude FHIRHelpers version '4.0.1'\n"
        "parameter Obs Observation\ncontext Patient\n"
        "define \"Big\": (Obs.value as Quantity) > 5 'mg'\n"
        "define \"Final\": Obs.status = 'final'\n"
        "define \"Plus\": (Obs.value as Quantity) + 1 'mg'\n"
    )
    typed, untyped = _both_paths(text)
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "valueQuantity": {"value": 7, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"},
    }
    params = {"Obs": obs}
    got = typed.evaluate([PATIENT], parameters=params, now=NOW).values
    assert got == untyped.evaluate([PATIENT], parameters=params, now=NOW).values
    assert got["Big"] is True and got["Final"] is True
    assert got["Plus"] == Quantity(Decimal(8), "mg")


def test_run_time_errors_stay_located_on_the_typed_path() -> None:
    lib = load_library("library E\ndefine X: singleton from { 1, 2 }\ndefine Y: X + 1\n")
    assert lib.compiled.typed
    with pytest.raises(CqlRuntimeError, match=r"E:2:11"):
        lib.evaluate([PATIENT], now=NOW)


@pytest.mark.parametrize(
    ("performed", "expected"),
    [
        ({"performedDateTime": "2024-01-01"}, None),
        ({"performedPeriod": {"start": "2024-01-02"}}, "@2024-01-02"),
        ({"performedString": "last spring"}, None),
        ({}, None),
    ],
)
def test_property_of_a_choice_is_null_on_the_alternatives_without_it(
    performed: dict[str, Any], expected: Any
) -> None:
    """``performed.start`` (a choice of dateTime, Period, string, Age, Range): read on a Period,
    null on the others. The typed walk does not type a property of a choice yet (it is compiled
    untyped, where a dateTime fails: 'a DateTime has no property'), so the choice type is given
    to the compiler here as the walk will record it."""
    from cds.cql.elm.static_types import StaticTypes

    text = (
        "library T\nusing FHIR version '4.0.1'\ninclude FHIRHelpers version '4.0.1'\ncontext Patient\n"
        'define "P": First([Procedure]).performed.start\n'
    )
    ast = parse_library(text)
    member = ast.expressions[0].expression
    static_types = StaticTypes()
    choice = ChoiceType(
        tuple(NamedType(f"FHIR.{t}") for t in ("dateTime", "Period", "string", "Age", "Range"))
    )
    static_types.record(member.source, choice)
    compiled = compile_library(ast, resolver=api.LibraryResolver([], None), static_types=static_types)
    procedure = {
        "resourceType": "Procedure",
        "id": "x",
        "status": "completed",
        "subject": {"reference": "Patient/p"},
    }
    got = api.Library(compiled, None).evaluate([PATIENT, {**procedure, **performed}], now=NOW)["P"]
    assert (None if got is None else str(got)) == expected


def test_operators_of_known_types_leave_no_dispatch_site() -> None:
    lib = load_library(
        "library K\n"
        "define E: expand { Interval[1, 3] }\n"
        "define C: collapse { Interval[1, 3], Interval[2, 5] }\n"
        "define D: duration in days between @2024-01-01 and @2024-02-01\n"
        "define S: 'a' & 'b'\n"
        "define W: Interval[@2024-01-01, @2024-02-01] starts 3 days or less before @2024-01-04\n"
        "define I: 2 in Interval[1, 3]\n"
    )
    assert lib.compiled.typed
    assert lib.compiled.dispatch_sites == []
