"""Forms real-world libraries are written in (Da Vinci CDS-Library style), each in our own
wording: unqualified FHIR type names, ``using FHIR version '4.0.0'``, instances of FHIR
primitives in lower case, ValueSet instances."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cds.cql.api import load_library
from cds.cql.errors import CqlLoadError
from cds.cql.runtime.clinical import ValueSetRef
from cds.cql.runtime.quantity import Quantity

NOW = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)

WEIGHT = {
    "resourceType": "Observation",
    "id": "w1",
    "status": "final",
    "code": {"text": "weight"},
    "valueQuantity": {"value": 71.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
}


def _library(fhir_version: str, body: str) -> str:
    return (
        f"library Forms\nusing FHIR version '{fhir_version}'\n"
        f"include FHIRHelpers version '4.0.1' called FHIRHelpers\ncontext Patient\n{body}"
    )


def test_unqualified_quantity_is_the_fhir_type_under_using_fhir() -> None:
    # `as Quantity` names FHIR.Quantity (the data model first), so FHIRHelpers.ToQuantity applies.
    text = _library(
        "4.0.1",
        'define "Weights": [Observation] O return FHIRHelpers.ToQuantity(O.value as Quantity)\n'
        'define "Is FHIR": First([Observation] O return O.value is Quantity)\n',
    )
    result = load_library(text).evaluate([{"resourceType": "Patient", "id": "p"}, WEIGHT], now=NOW)
    assert result["Weights"] == [Quantity(Decimal("71.5"), "kg")]
    assert result["Is FHIR"] is True


def test_fhir_4_0_0_is_read_as_4_0_1_with_a_warning() -> None:
    library = load_library(_library("4.0.0", 'define "N": 1\n'))
    assert library.warnings == ["Forms:2:1: FHIR version '4.0.0' is read as 4.0.1"]
    assert load_library(_library("4.0.1", 'define "N": 1\n')).warnings == []


def test_instance_of_a_fhir_primitive_in_lower_case() -> None:
    text = _library(
        "4.0.1",
        "define \"Ref\": Reference { reference: string { value: 'Patient/p' }, display: FHIR.string { value: 'P' } }\n"
        'define "Target": "Ref".reference.value\n'
        'define "Shown": "Ref".display\n',
    )
    result = load_library(text).evaluate([{"resourceType": "Patient", "id": "p"}], now=NOW)
    assert (result["Target"], result["Shown"]) == ("Patient/p", "P")


def test_fhir_primitive_instance_with_other_elements_is_refused() -> None:
    text = _library("4.0.1", "define \"S\": string { id: 'a', value: 'b' }\n")
    with pytest.raises(CqlLoadError, match=r"Forms:5:\d+: "):
        load_library(text)


def test_valueset_instance() -> None:
    result = load_library(_library("4.0.1", "define \"V\": ValueSet { id: 'http://x/vs' }\n")).evaluate(
        [], now=NOW
    )
    assert result["V"] == ValueSetRef("http://x/vs")


def test_bound_code_types_of_fhir_4_0_0_only_under_4_0_0() -> None:
    fn = 'define function Text(v FHIR.strandType): v.value\ndefine "N": 1\n'
    assert load_library(_library("4.0.0", fn)).evaluate([], now=NOW)["N"] == 1
    with pytest.raises(CqlLoadError, match="unknown type strandType"):
        load_library(_library("4.0.1", fn))
