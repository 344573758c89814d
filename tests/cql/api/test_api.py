"""End to end through the public API: load once, evaluate with data, parameters and a clock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cds.cql.api import CqlLiteral, load_library, parameter_value, python_datetime_to_cql
from cds.cql.data.memory import InMemoryRetriever
from cds.cql.errors import CqlLoadError, CqlRuntimeError
from cds.cql.runtime.clinical import Code
from cds.cql.runtime.fhir import FhirNode
from cds.cql.terminology.folder import FolderTerminology

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
SCT = "http://snomed.info/sct"

TERMINOLOGY = FolderTerminology(
    [
        {
            "resourceType": "ValueSet",
            "url": "http://x/gvhd",
            "compose": {"include": [{"system": SCT, "concept": [{"code": "402355000"}]}]},
        }
    ]
)

LIB = """library ApiTest version '1.0.0'
using FHIR version '4.0.1'
include FHIRHelpers version '4.0.1' called FHIRHelpers
valueset "GvHD": 'http://x/gvhd'
parameter "Order" FHIR.ServiceRequest
parameter "Limit" Integer default 10
context Patient
define "GvHD Conditions": [Condition: "GvHD"]
define "Has GvHD": exists "GvHD Conditions"
define "Order Priority": "Order".priority
define "Chimerism": First([Observation] O return FHIRHelpers.ToQuantity(O.value as Quantity))
define "Age": AgeInYearsAt(@2024-05-01)
define "Limit Plus": "Limit" + 1
define private "Hidden": 1
"""

RESOURCES: list[dict[str, Any]] = [
    {"resourceType": "Patient", "id": "p1", "birthDate": "1970-06-15"},
    {"resourceType": "Condition", "id": "c1", "code": {"coding": [{"system": SCT, "code": "402355000"}]}},
    {"resourceType": "Condition", "id": "c2", "code": {"coding": [{"system": SCT, "code": "1"}]}},
    {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "chimerism"},
     "valueQuantity": {"value": 85.5, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}},
]  # fmt: skip
ORDER = {"resourceType": "ServiceRequest", "id": "sr1", "status": "draft", "priority": "urgent"}


@pytest.fixture(scope="module")
def library() -> Any:
    return load_library(LIB, terminology=TERMINOLOGY)


def test_evaluate_end_to_end(library: Any) -> None:
    result = library.evaluate(RESOURCES, parameters={"Order": ORDER}, now=NOW)
    assert [n.reference() for n in result["GvHD Conditions"]] == ["Condition/c1"]
    assert result["Has GvHD"] is True
    assert result["Order Priority"] == "urgent"
    assert result["Chimerism"].value == Decimal("85.5")
    assert result["Age"] == 53
    assert result["Limit Plus"] == 11
    assert "Hidden" not in result.values
    with pytest.raises(KeyError):
        result["Hidden"]


def test_parameters_and_retriever(library: Any) -> None:
    retriever = InMemoryRetriever(RESOURCES, TERMINOLOGY)
    result = library.evaluate(retriever, parameters={"Order": ORDER, "Limit": CqlLiteral("41")}, now=NOW)
    assert result["Limit Plus"] == 42


def test_load_errors_are_all_listed() -> None:
    with pytest.raises(CqlLoadError) as info:
        load_library('library Bad\ndefine "A": Missing1\ndefine "B": Missing2\n')
    assert len(info.value.errors) == 2
    assert all(e.location is not None for e in info.value.errors)


def test_unknown_valueset_is_refused_at_load() -> None:
    text = "library V\nusing FHIR version '4.0.1'\nvalueset \"Nope\": 'http://x/nope'\ndefine \"X\": 1\n"
    with pytest.raises(CqlLoadError, match="http://x/nope"):
        load_library(text, terminology=TERMINOLOGY)


def test_included_cql_library(tmp_path: Path) -> None:
    (tmp_path / "Common-1.0.0.cql").write_text("library Common version '1.0.0'\ndefine \"Two\": 2\n")
    text = 'library Main\ninclude Common version \'1.0.0\' called C\ndefine "Four": C."Two" * 2\n'
    assert load_library(text, library_dirs=[tmp_path]).evaluate([], now=NOW)["Four"] == 4
    with pytest.raises(CqlLoadError, match="Common"):
        load_library(text)


def test_parameter_values() -> None:
    node = parameter_value(ORDER)
    assert isinstance(node, FhirNode) and node.reference() == "ServiceRequest/sr1"
    assert parameter_value([ORDER])[0].type_name == "ServiceRequest"
    assert parameter_value(1.5) == Decimal("1.5")
    assert parameter_value(Code("1", "s")) == Code("1", "s")


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(CqlRuntimeError, match="timezone-aware"):
        python_datetime_to_cql(dt.datetime(2024, 1, 1))
