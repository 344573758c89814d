"""InMemoryRetriever: type index, bundle flattening, code and value-set filters, patient."""

from __future__ import annotations

from typing import Any

import pytest

from cds.cql.data.memory import InMemoryRetriever
from cds.cql.data.retriever import Retriever
from cds.cql.errors import CqlRuntimeError
from cds.cql.runtime.clinical import Code, ValueSetRef
from cds.cql.terminology.folder import FolderTerminology
from cds.cql.terminology.provider import TerminologyError

SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def cond(cid: str, *codings: tuple[str, str]) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": cid,
            "code": {"coding": [{"system": s, "code": c} for s, c in codings]}}  # fmt: skip


RESOURCES: list[dict[str, Any]] = [
    {"resourceType": "Patient", "id": "p1"},
    cond("c1", (SCT, "402355000")),
    {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": cond("c2", (ICD, "D89.810"), (SCT, "999"))},
        {"resource": {"resourceType": "Bundle", "entry": [{"resource": cond("c3", (ICD, "C92.00"))}]}},
    ]},
    {"resourceType": "MedicationRequest", "id": "m1", "status": "active",
     "medicationCodeableConcept": {"coding": [{"system": "rx", "code": "42"}]}},
    {"resourceType": "MedicationRequest", "id": "m2", "medicationReference": {"reference": "Medication/x"}},
]  # fmt: skip

TERMINOLOGY = FolderTerminology(
    [
        {
            "resourceType": "ValueSet",
            "url": "http://x/gvhd",
            "compose": {"include": [{"system": ICD, "concept": [{"code": "D89.810"}]}]},
        }
    ]
)


def ids(nodes: list[Any]) -> list[str]:
    return [n.data["id"] for n in nodes]


def test_protocol_and_type_index() -> None:
    r = InMemoryRetriever(RESOURCES, TERMINOLOGY)
    assert isinstance(r, Retriever)
    assert ids(r.retrieve("Condition")) == ["c1", "c2", "c3"]
    assert ids(r.retrieve("FHIR.Condition")) == ["c1", "c2", "c3"]
    assert ids(r.retrieve("{http://hl7.org/fhir}Condition")) == ["c1", "c2", "c3"]
    assert r.retrieve("Observation") == []
    assert r.patient() is not None and r.patient().reference() == "Patient/p1"  # type: ignore[union-attr]


def test_code_filter_uses_primary_code_path_and_keeps_order() -> None:
    r = InMemoryRetriever(RESOURCES, TERMINOLOGY)
    hits = r.retrieve("Condition", codes=[Code("999", SCT), Code("402355000", SCT)])
    assert ids(hits) == ["c1", "c2"]
    assert r.retrieve("Condition", codes=[Code("402355000", ICD)]) == []
    assert ids(r.retrieve("MedicationRequest", codes=[Code("42", "rx")])) == ["m1"]


def test_valueset_filter() -> None:
    r = InMemoryRetriever(RESOURCES, TERMINOLOGY)
    assert ids(r.retrieve("Condition", valueset=ValueSetRef("http://x/gvhd"))) == ["c2"]
    assert ids(r.retrieve("Condition", code_path="code", valueset=ValueSetRef("http://x/gvhd"))) == ["c2"]


def test_valueset_filter_needs_terminology() -> None:
    r = InMemoryRetriever(RESOURCES)
    with pytest.raises(TerminologyError, match="without a terminology"):
        r.retrieve("Condition", valueset=ValueSetRef("http://x/gvhd"))


def test_type_without_primary_code_path() -> None:
    r = InMemoryRetriever(RESOURCES)
    with pytest.raises(CqlRuntimeError, match="no primary code path"):
        r.retrieve("Patient", codes=[Code("1", SCT)])


def test_several_patients_is_an_error() -> None:
    r = InMemoryRetriever([{"resourceType": "Patient", "id": "a"}, {"resourceType": "Patient", "id": "b"}])
    with pytest.raises(CqlRuntimeError, match="2 Patient resources"):
        r.patient()
    assert InMemoryRetriever([]).patient() is None


def test_resource_without_type_is_refused() -> None:
    with pytest.raises(CqlRuntimeError, match="resourceType"):
        InMemoryRetriever([{"id": "x"}])
