"""The static type resolver (cds.cql.types, walked by cds.cql.elm.translator): expression types
per the CQL type-resolution rules, the FHIR model info driving them, and type errors with
positions."""

from __future__ import annotations

import pytest

from cds.cql.api import load_library
from cds.cql.elm.library import LibraryTranslator
from cds.cql.errors import CqlLoadError
from cds.cql.syntax import parse_library
from cds.cql.types.errors import CannotType, CqlTypeError

HEADER = """library T version '1'
using FHIR version '4.0.1'
include FHIRHelpers version '4.0.1'
codesystem "LOINC": 'http://loinc.org'
valueset "VS": 'http://example.org/vs'
code "C": '1234-5' from "LOINC"
parameter "P" Integer default 3
context Patient
"""


def type_of(expression: str) -> str:
    library = LibraryTranslator(parse_library(HEADER + f"define X: {expression}\n"))
    return str(library.define("X").type)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2", "System.Integer"),
        ("1 + 2L", "System.Long"),
        ("1 + 2.0", "System.Decimal"),
        ("2.0 * 3 'mg'", "System.Quantity"),
        ("'a' + 'b'", "System.String"),
        ("1 / 2", "System.Decimal"),
        ("Truncate(2.5)", "System.Integer"),
        ("@2024-01-01 + 1 day", "System.Date"),
        ("{ 1, 2.0 }", "List<System.Decimal>"),
        ("{ }", "List<System.Any>"),
        ("Interval[1, 5]", "Interval<System.Integer>"),
        ("Interval[@2024-01-01, @2024-02-01T10:00]", "Interval<System.DateTime>"),
        ("if true then 1 else null", "System.Integer"),
        ("if true then 1 else 'a'", "Choice<System.Integer, System.String>"),
        ("Coalesce(null, 2, 3.0)", "System.Decimal"),
        ("Tuple { a: 1, b: 'x' }.b", "System.String"),
        ("First({ 'a', 'b' })", "System.String"),
        ('"P" + 1', "System.Integer"),
        ('"C"', "System.Code"),
        ("[Observation]", "List<FHIR.Observation>"),
        ('[Condition: "VS"]', "List<FHIR.Condition>"),
        ("[Observation] O return O.status", "List<FHIR.ObservationStatus>"),
        (
            "[Observation] O return O.value",
            "List<Choice<FHIR.Quantity, FHIR.CodeableConcept, FHIR.string, "
            "FHIR.boolean, FHIR.integer, FHIR.Range, FHIR.Ratio, FHIR.SampledData, FHIR.time, FHIR.dateTime, "
            "FHIR.Period>>",
        ),
        ("([Observation] O return O.value as FHIR.Quantity)", "List<FHIR.Quantity>"),
        (
            "[Observation] O where O.value is FHIR.Quantity return (O.value as FHIR.Quantity).value + 1",
            "List<System.Decimal>",
        ),
        ("[Observation] O return O.component.code", "List<List<FHIR.CodeableConcept>>"),
        ("[Observation] O return O.status = 'final'", "List<System.Boolean>"),
        ('[Observation] O return O.code in "VS"', "List<System.Boolean>"),
        ("Patient.birthDate", "FHIR.date"),
        ("Patient.birthDate.value", "System.Date"),
        ("[Observation] O sort by issued", "List<FHIR.Observation>"),
        ("({1, 2, 3}) N aggregate R starting 0: R + N", "System.Integer"),
    ],
)
def test_expression_types(expression: str, expected: str) -> None:
    assert type_of(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message", "column"),
    [
        ("1 + 'a'", "no operator + for (System.Integer, System.String)", 13),
        ("Upper(1)", "no Upper operator for (System.Integer)", 11),
        ("[Observation] O return O.nope", "FHIR.Observation has no element 'nope'", 36),
        ("1 as Foo", "unknown type Foo", 16),
        ("not 'a'", "no Not operator for (System.String)", 11),
        ("'a' in \"VS\" and 1", "no operator and for (System.Boolean, System.Integer)", 23),
    ],
)
def test_type_errors_have_positions(expression: str, message: str, column: int) -> None:
    with pytest.raises(CqlTypeError) as info:
        type_of(expression)
    assert message in info.value.message
    assert info.value.location is not None
    assert (info.value.location.line, info.value.location.column) == (9, column)


def test_load_refuses_a_type_error_with_its_position() -> None:
    with pytest.raises(CqlLoadError) as info:
        load_library("library T\ndefine X: 1 + 'a'\n")
    assert "T:2:13: no operator + for (System.Integer, System.String)" in str(info.value)


def test_a_construct_not_covered_is_refused_not_guessed() -> None:
    with pytest.raises(CannotType) as info:
        type_of("descendents(Tuple { a: 1 })")
    assert info.value.message.startswith("cannot type")


def test_model_info_bound_code_type_converts_with_fhirhelpers() -> None:
    """Observation.status is the bound-code type ObservationStatus; compared with a String it
    converts through the model info's FHIRHelpers.ToString."""
    library = LibraryTranslator(
        parse_library(HEADER + "define X: [Observation] O where O.status = 'final'\n")
    )
    where = library.define("X").elm["where"]
    assert where["type"] == "Equal"
    assert where["operand"][0] == {
        "type": "FunctionRef",
        "name": "ToString",
        "libraryName": "FHIRHelpers",
        "operand": [{"type": "Property", "path": "status", "scope": "O"}],
    }


def test_model_info_primary_code_path_drives_retrieves() -> None:
    library = LibraryTranslator(parse_library(HEADER + 'define X: [MedicationRequest: "VS"]\n'))
    retrieve = library.define("X").elm
    assert retrieve["codeProperty"] == "medication"
    assert retrieve["codes"] == {"type": "ValueSetRef", "name": "VS", "preserve": True}


def test_choice_element_needs_a_cast_before_a_conversion() -> None:
    with pytest.raises(CqlTypeError):
        type_of("[Observation] O return O.value + 1")


def test_generic_interval_operator_takes_a_type_that_converts_to_an_interval() -> None:
    # Start(Interval<T>) on a FHIR.Period: T is DateTime, through FHIRHelpers.ToInterval.
    library = LibraryTranslator(parse_library(HEADER + "define X: Start(First([Encounter]).period)\n"))
    typed = library.define("X")
    assert str(typed.type) == "System.DateTime"
    assert typed.elm["operand"]["name"] == "ToInterval"


def test_list_promotion_of_an_operator_argument_is_an_option() -> None:
    text = HEADER + "define X: exists (First([Observation]).value as FHIR.Quantity)\n"
    with pytest.raises(CqlTypeError, match="no Exists operator"):
        LibraryTranslator(parse_library(text)).define("X")
    promoted = LibraryTranslator(parse_library(text), list_promotion=True).define("X")
    assert str(promoted.type) == "System.Boolean"
    assert promoted.elm["operand"]["type"] == "ToList"
