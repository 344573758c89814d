"""Forms real-world libraries are written in (Da Vinci CDS-Library style), each in our own
wording: unqualified FHIR type names, ``using FHIR version '4.0.0'``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cds.cql.api import load_library
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
