"""The type resolver as the reference translator: list promotion and demotion behind its options
(off by default), the constructs real-world libraries use (age functions, properties of choices,
external functions, set operators over lists of different types), and the load failing closed
on what it cannot type. The ELM shapes are the reference translator's (checked against it by
tests/cql/elm/test_survey_libraries.py on the surveyed libraries)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cds.cql import cli
from cds.cql.api import library_elm, load_library
from cds.cql.elm.library import LibraryTranslator
from cds.cql.errors import CqlLoadError
from cds.cql.syntax import parse_library
from cds.cql.types.errors import CqlTypeError

from .test_type_resolution import HEADER

NOW = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
PATIENT = {"resourceType": "Patient", "id": "p", "birthDate": "1970-06-01"}


def define(expression: str, **options: bool) -> LibraryTranslator:
    return LibraryTranslator(parse_library(HEADER + f"define X: {expression}\n"), **options)


def value(expression: str, **options: bool) -> object:
    library = load_library(f"library V\ndefine X: {expression}\n", **options)
    return library.evaluate([PATIENT], now=NOW)["X"]


@pytest.mark.parametrize(
    ("expression", "promotion", "demotion"),
    [
        # Coalesce instantiates T from its first operand: the list must be demoted; promotion
        # does not rebind T to a list (the reference translator refuses it with promotion only).
        ("Coalesce('a', {'b'}, 'c')", False, True),
        # A List<String> compared with a String: either option resolves it.
        ("{'a'} = 'a'", True, True),
        ("exists 1", True, False),
        ("flatten { Tuple { a: 1 } }", True, False),
        ("Upper({'a'})", False, True),
    ],
)
def test_list_options_as_the_reference_translator(expression: str, promotion: bool, demotion: bool) -> None:
    with pytest.raises(CqlTypeError):
        define(expression).define("X")
    for on in (False, True):
        options = {"list_promotion": on, "list_demotion": not on}
        accepted = promotion if on else demotion
        if accepted:
            define(expression, **options).define("X")
        else:
            with pytest.raises(CqlTypeError):
                define(expression, **options).define("X")


def test_demotion_is_singleton_from_and_promotion_to_list() -> None:
    demoted = define("{'a'} = 'a'", list_demotion=True).define("X").elm
    assert demoted["operand"][0] == {
        "type": "SingletonFrom",
        "operand": {
            "type": "List",
            "element": [{"type": "Literal", "valueType": "{urn:hl7-org:elm-types:r1}String", "value": "a"}],
        },
    }
    promoted = define("{'a'} = 'a'", list_promotion=True).define("X").elm
    assert promoted["operand"][1]["type"] == "ToList"
    flattened = define("flatten { Tuple { a: 1 } }", list_promotion=True).define("X")
    assert str(flattened.type) == "List<Tuple { a System.Integer }>"
    assert flattened.elm["operand"]["return"]["expression"]["type"] == "ToList"


@pytest.mark.parametrize(
    ("expression", "options", "expected"),
    [
        ("Coalesce(null, {'b'}, 'c')", {"list_demotion": True}, "b"),
        ("Coalesce(null, List<String>{}, 'c')", {"list_demotion": True}, "c"),
        ("exists 1", {"list_promotion": True}, True),
        ("exists (null as Integer)", {"list_promotion": True}, False),
        ("{'a'} = 'a'", {"list_demotion": True}, True),
        ("{'a'} = 'a'", {"list_promotion": True}, True),
    ],
)
def test_the_engine_runs_the_conversions_chosen(
    expression: str, options: dict[str, bool], expected: object
) -> None:
    """The engine evaluates by values: load writes each promotion/demotion into the tree."""
    assert value(expression, **options) == expected


def test_load_refuses_what_needs_an_option_that_is_off() -> None:
    with pytest.raises(CqlLoadError, match=r"V:2:11: no Coalesce operator"):
        load_library("library V\ndefine X: Coalesce('a', {'b'})\n")


def test_set_operators_over_lists_of_different_types_give_a_choice() -> None:
    typed = define("[Observation] union [Condition]").define("X")
    assert str(typed.type) == "List<Choice<FHIR.Condition, FHIR.Observation>>"
    assert [o["type"] for o in typed.elm["operand"]] == ["As", "As"]
    excepted = define("{1} except {'a'}").define("X")
    assert excepted.elm["type"] == "Except"
    assert str(excepted.type) == "List<Choice<System.Integer, System.String>>"


def test_property_of_a_choice_is_the_choice_of_the_members_that_have_it() -> None:
    typed = define("First([MedicationRequest]).medication.coding").define("X")
    assert str(typed.type) == "List<FHIR.Coding>"
    assert typed.elm["type"] == "Property"  # as the reference writes it: no cast
    with pytest.raises(CqlTypeError, match="has no element 'nope'"):
        define("First([MedicationRequest]).medication.nope").define("X")


@pytest.mark.parametrize(
    ("expression", "operator", "precision"),
    [("AgeInYears()", "CalculateAge", "Year"), ("AgeInMonthsAt(@2020-01-01)", "CalculateAgeAt", "Month")],
)
def test_age_functions_read_the_patient(expression: str, operator: str, precision: str) -> None:
    typed = define(expression).define("X")
    assert str(typed.type) == "System.Integer"
    assert typed.elm["type"] == operator and typed.elm["precision"] == precision
    birth = typed.elm["operand"] if operator == "CalculateAge" else typed.elm["operand"][0]
    assert birth == {
        "type": "Property",
        "path": "birthDate.value",
        "source": {"type": "ExpressionRef", "name": "Patient"},
    }


def test_a_function_reading_the_context_is_typed() -> None:
    text = HEADER + "define function Old(): AgeInYears() > 50\ndefine X: Old()\n"
    assert str(LibraryTranslator(parse_library(text)).define("X").type) == "System.Boolean"


def test_age_needs_a_patient() -> None:
    with pytest.raises(CqlTypeError, match="could not resolve identifier 'Patient'"):
        LibraryTranslator(parse_library("library T\ndefine X: AgeInYears()\n")).define("X")


def test_external_functions_are_typed_but_not_run() -> None:
    text = "library T\ndefine function E(x Integer) returns Integer: external\ndefine X: E(1) + 1\n"
    statements = {d["name"]: d for d in library_elm(text)["library"]["statements"]["def"]}
    assert statements["E"]["external"] is True
    call = statements["X"]["expression"]["operand"][0]
    assert call["type"] == "FunctionRef" and call["name"] == "E"
    with pytest.raises(CqlLoadError, match="external"):
        load_library(text)


def test_load_fails_closed_on_a_construct_not_covered() -> None:
    with pytest.raises(CqlLoadError, match=r"T:2:11: cannot type the function 'descendents'"):
        load_library("library T\ndefine X: descendents(Tuple { a: 1 })\n")


def test_cli_options_and_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lib = tmp_path / "T.cql"
    lib.write_text("library T\nusing FHIR version '4.0.0'\ndefine X: Coalesce('a', {'b'})\n")
    for command in ("check", "evaluate", "elm"):
        extra = ["--data", str(tmp_path / "data.json")] if command == "evaluate" else []
        (tmp_path / "data.json").write_text('{"resourceType": "Patient", "id": "p"}')
        assert cli.main(["cql", command, str(lib), *extra]) == cli.EXIT_CQL_ERROR
        assert "no Coalesce operator" in capsys.readouterr().err
        assert cli.main(["cql", command, str(lib), *extra, "--list-demotion"]) == cli.EXIT_OK
        err = capsys.readouterr().err
        assert "warning: T:2:1: FHIR version '4.0.0' is read as 4.0.1" in err
