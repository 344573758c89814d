"""The FHIR R4 model: element types, choice types, cardinality, hierarchy, primary code paths."""

from __future__ import annotations

import pytest

from cds.cql.model import fhir_model, system_types
from cds.cql.model.fhir_model import FhirModelError


def test_choice_element_lists_every_type() -> None:
    info = fhir_model.element("FHIR.Observation", "value")
    assert info.is_choice and not info.is_list and not info.is_primitive
    assert {"Quantity", "CodeableConcept", "string", "boolean", "Period"} <= set(info.types)
    assert fhir_model.choice_suffixes("Observation", "effective")[0] == ("effectiveDateTime", "dateTime")


@pytest.mark.parametrize(
    ("type_name", "name", "types", "is_list", "is_primitive"),
    [
        ("Observation", "code", ("CodeableConcept",), False, False),
        ("Observation", "category", ("CodeableConcept",), True, False),
        ("Observation", "component", ("Observation.component",), True, False),
        ("Observation.component", "code", ("CodeableConcept",), False, False),
        ("Patient", "birthDate", ("date",), False, True),
        ("HumanName", "given", ("string",), True, True),
        ("Condition", "extension", ("Extension",), True, False),
        ("Bundle.entry", "resource", ("Resource",), False, False),
        ("Questionnaire.item", "item", ("Questionnaire.item",), True, False),
        ("Age", "value", ("decimal",), False, True),
        ("ServiceRequest", "priority", ("code",), False, True),
        ("Coverage", "class", ("Coverage.class",), True, False),
    ],
)
def test_element(
    type_name: str, name: str, types: tuple[str, ...], is_list: bool, is_primitive: bool
) -> None:
    info = fhir_model.element(type_name, name)
    assert (info.types, info.is_list, info.is_primitive) == (types, is_list, is_primitive)


def test_unknown_element_fails_closed() -> None:
    with pytest.raises(FhirModelError, match="no element 'bogus'"):
        fhir_model.element("Observation", "bogus")


def test_hierarchy() -> None:
    assert fhir_model.is_subtype("FHIR.Age", "FHIR.Quantity")
    assert fhir_model.is_subtype("code", "string")
    assert fhir_model.is_subtype("Condition", "Resource")
    assert fhir_model.is_subtype("Observation.component", "BackboneElement")
    assert fhir_model.is_subtype("Observation", "System.Any")
    assert not fhir_model.is_subtype("Quantity", "Age")
    assert not fhir_model.is_subtype("Condition", "Observation")
    assert fhir_model.is_resource_type("Goal") and not fhir_model.is_resource_type("Coding")


def test_primary_code_paths() -> None:
    assert fhir_model.primary_code_path("FHIR.Condition") == "code"
    assert fhir_model.primary_code_path("MedicationRequest") == "medication"
    assert fhir_model.primary_code_path("Goal") == "category"
    assert fhir_model.primary_code_path("Patient") is None


def test_primitive_mapping() -> None:
    assert fhir_model.system_type_of("FHIR.code") == "System.String"
    assert fhir_model.system_type_of("instant") == "System.DateTime"
    assert fhir_model.system_type_of("positiveInt") == "System.Integer"
    assert fhir_model.system_type_of("Quantity") is None
    assert system_types.system_is_subtype("System.ValueSet", "System.Vocabulary")
    assert not system_types.system_is_subtype("System.Integer", "System.Decimal")
