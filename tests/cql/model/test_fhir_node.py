"""FhirNode: typed element access, choice types, primitives, FHIRHelpers conversions."""

from __future__ import annotations

import gc
from decimal import Decimal
from typing import Any

import pytest

from cds.cql.errors import CqlRuntimeError
from cds.cql.runtime.clinical import Code, Concept
from cds.cql.runtime.fhir import FhirNode, to_system

OBS: dict[str, Any] = {
    "resourceType": "Observation",
    "id": "chim-1",
    "status": "final",
    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                              "code": "laboratory"}]}],
    "code": {"coding": [{"system": "http://loinc.org", "code": "49778-9", "display": "Chimerism"}],
             "text": "Donor chimerism"},
    "valueQuantity": {"value": 85.5, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
    "component": [{"code": {"text": "c"}, "valueString": "mixed"}],
    "_status": {"extension": [{"url": "http://example.org/x", "valueBoolean": True}]},
    "contained": [{"resourceType": "Patient", "id": "p"}],
}  # fmt: skip


def node() -> FhirNode:
    return FhirNode.of_resource(OBS)


def test_primitive_and_list_access() -> None:
    n = node()
    assert n.get("status") == "final"
    assert n.get("id") == "chim-1"
    cats = n.get("category")
    assert isinstance(cats, list) and cats[0].type_name == "CodeableConcept"
    assert n.get("note") == [] and n.get("subject") is None


def test_choice_reads_present_property_with_its_type() -> None:
    value = node().get("value")
    assert isinstance(value, FhirNode) and value.type_name == "Quantity"
    assert value.get("value") == Decimal("85.5")
    comp = node().get("component")[0]
    assert comp.type_name == "Observation.component" and comp.get("value") == "mixed"


def test_evidence_reference_of_resources() -> None:
    assert node().reference() == "Observation/chim-1"
    assert node().get("code").reference() is None  # an element is not a resource
    contained = node().get("contained")[0]
    assert contained.type_name == "Patient" and contained.reference() == "Patient/p"


def test_read_nodes_form_no_reference_cycles() -> None:
    """A resource and everything read from it are freed by reference counting alone: the
    cyclic collector finds nothing (with back-references it found every node of a request)."""
    gc.collect()
    gc.disable()
    try:
        n = node()
        n.get("code").get("coding")[0].get("code")
        n.get("component")[0].get("value")
        n.get("contained")[0].get("id")
        n.primitive_element("status").get("extension")
        del n
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_primitive_extension() -> None:
    ext = node().primitive_element("status")
    assert isinstance(ext, FhirNode)
    assert ext.get("extension")[0].get("value") is True


def test_to_system_coding_and_concept() -> None:
    concept = to_system(node().get("code"))
    assert concept == Concept((Code("49778-9", "http://loinc.org", None, "Chimerism"),), "Donor chimerism")
    assert to_system(node().get("code").get("coding")) == [
        Code("49778-9", "http://loinc.org", None, "Chimerism")
    ]
    assert to_system("text") == "text"


def test_to_system_quantity() -> None:
    from cds.cql.runtime.quantity import Quantity

    q = to_system(node().get("value"))
    assert isinstance(q, Quantity) and q.value == Decimal("85.5") and q.unit == "%"
    age = FhirNode("Age", {"value": 3, "system": "http://unitsofmeasure.org", "code": "a"})
    assert to_system(age).unit == "year"


def test_quantity_with_comparator_is_refused() -> None:
    q = FhirNode("Quantity", {"value": 5, "comparator": "<", "code": "%"})
    with pytest.raises(CqlRuntimeError, match="comparator"):
        to_system(q)


def test_quantity_with_foreign_system_is_refused() -> None:
    q = FhirNode("Quantity", {"value": 5, "system": "http://snomed.info/sct", "code": "258718000"})
    with pytest.raises(CqlRuntimeError, match="Invalid FHIR Quantity code"):
        to_system(q)


def test_period_to_interval_open_without_start() -> None:
    from cds.cql.runtime.interval import Interval

    period = FhirNode("Period", {"end": "2024-02-10"})
    interval = to_system(period)
    assert isinstance(interval, Interval)
    assert interval.low is None and not interval.low_closed and interval.high_closed


def test_dates_become_system_temporals() -> None:
    patient = FhirNode.of_resource({"resourceType": "Patient", "id": "p", "birthDate": "1970-03"})
    assert type(patient.get("birthDate")).__name__ == "Date"


def test_bad_primitive_fails() -> None:
    bad = FhirNode.of_resource({"resourceType": "Patient", "id": "p", "active": "yes"})
    with pytest.raises(CqlRuntimeError, match="true or false"):
        bad.get("active")


def test_structural_equality() -> None:
    a = FhirNode("Coding", {"system": "s", "code": "c"})
    b = FhirNode("Coding", {"system": "s", "code": "c"})
    c = FhirNode("Coding", {"system": "s", "code": "d"})
    assert a.cql_equal(b) is True and a.cql_equivalent(b)
    assert a.cql_equal(c) is False and a.cql_equal("c") is False


def test_unknown_element_at_run_time() -> None:
    with pytest.raises(CqlRuntimeError, match="no element 'nonsense'"):
        node().get("nonsense")


def test_value_is_for_fhir_types() -> None:
    from cds.cql.runtime.fhir import value_is

    assert value_is(True, "FHIR.boolean") and not value_is(True, "FHIR.integer")
    assert value_is("x", "FHIR.code") and value_is(3, "FHIR.integer") and not value_is(3, "FHIR.decimal")
    assert value_is(Decimal("1.5"), "FHIR.decimal") and value_is(Decimal("1.5"), "System.Decimal")
    assert value_is(node().get("value"), "FHIR.Quantity") and not value_is(node().get("value"), "FHIR.Age")
    assert value_is(node(), "FHIR.Resource") and not value_is(None, "FHIR.string")
