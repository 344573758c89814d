"""The FHIR R4 (4.0.1) model as the compiler sees it: element types, cardinality, type hierarchy
and primary code paths.

Type names are FHIR names without the ``FHIR.`` prefix (``"Observation"``, ``"Quantity"``,
``"dateTime"``); inline backbone elements are named by their path (``"Observation.component"``);
System types keep their prefix (``"System.String"``, used for ``id``/``url`` of elements).
Every function accepts a name with or without the ``FHIR.`` prefix.

Element types come from fhirpathpy's R4 model data; cardinality from fhir.resources' R4B models
(see :mod:`fhir_cardinality`). Both are loaded once per process, on first use.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cds.cql.errors import CqlCompileError
from cds.cql.model import system_types

RESOURCE = "Resource"


class FhirModelError(CqlCompileError):
    """A FHIR type or element that the R4 model does not have (or whose shape is unknown)."""


@dataclass(frozen=True, slots=True)
class ElementInfo:
    """An element of a FHIR type: its type(s) (several for a choice ``value[x]``), whether it
    repeats, and whether every type is primitive."""

    name: str
    types: tuple[str, ...]
    is_list: bool
    is_primitive: bool

    @property
    def is_choice(self) -> bool:
        return len(self.types) > 1

    @property
    def type_names(self) -> list[str]:
        return list(self.types)


#: Primary code path of each resource type (FHIR model info 4.0.1 ``primaryCodePath``): the
#: element a retrieve filters on when it names codes without a path.
PRIMARY_CODE_PATHS: dict[str, str] = {
    "Account": "type", "ActivityDefinition": "topic", "AdverseEvent": "event",
    "AllergyIntolerance": "code", "Appointment": "serviceType", "Basic": "code",
    "BodyStructure": "location", "CarePlan": "category", "CareTeam": "category",
    "ChargeItem": "code", "ChargeItemDefinition": "code", "Claim": "type",
    "ClinicalImpression": "code", "Communication": "reasonCode",
    "CommunicationRequest": "category", "Composition": "type", "Condition": "code",
    "Consent": "category", "Coverage": "type", "DetectedIssue": "code", "Device": "type",
    "DeviceMetric": "type", "DeviceRequest": "code", "DeviceUseStatement": "device.code",
    "DiagnosticReport": "code", "Encounter": "type", "EpisodeOfCare": "type",
    "ExplanationOfBenefit": "type", "Flag": "code", "Goal": "category", "Group": "code",
    "GuidanceResponse": "module", "HealthcareService": "type", "Immunization": "vaccineCode",
    "Library": "topic", "List": "code", "Location": "type", "Measure": "topic",
    "MeasureReport": "type", "Medication": "code", "MedicationAdministration": "medication",
    "MedicationDispense": "medication", "MedicationKnowledge": "code",
    "MedicationRequest": "medication", "MedicationStatement": "medication",
    "MessageDefinition": "event", "Observation": "code", "ObservationDefinition": "code",
    "OperationDefinition": "code", "OperationOutcome": "issue.code", "PractitionerRole": "code",
    "Procedure": "code", "Questionnaire": "name", "RelatedPerson": "relationship",
    "RequestGroup": "code", "RiskAssessment": "code", "SearchParameter": "target",
    "ServiceRequest": "code", "Specimen": "type", "Substance": "code", "SupplyDelivery": "type",
    "SupplyRequest": "category", "Task": "code",
}  # fmt: skip


def _read_fhirpathpy_r4() -> dict[str, Any]:
    """fhirpathpy's R4 model tables, read from its package data without importing fhirpathpy
    (whose import loads its whole FHIRPath engine)."""
    spec = importlib.util.find_spec("fhirpathpy")
    if spec is None or not spec.submodule_search_locations:
        raise FhirModelError("fhirpathpy is not installed: the FHIR R4 model data is missing")
    root = Path(next(iter(spec.submodule_search_locations))) / "models" / "r4"
    names = ("path2Type", "choiceTypePaths", "type2Parent", "pathsDefinedElsewhere")
    return {name: json.loads((root / f"{name}.json").read_text(encoding="utf-8")) for name in names}


class _Model:
    """fhirpathpy's R4 tables plus derived indexes and the cardinality table."""

    def __init__(self) -> None:
        r4 = _read_fhirpathpy_r4()
        self.path2type: dict[str, str] = dict(r4["path2Type"])
        self.choices: dict[str, list[str]] = {k: list(v) for k, v in r4["choiceTypePaths"].items()}
        self.parents: dict[str, str] = dict(r4["type2Parent"])
        self.elsewhere: dict[str, str] = dict(r4["pathsDefinedElsewhere"])
        prefixes: set[str] = set()
        for path in self.path2type:
            parts = path.split(".")
            for i in range(2, len(parts)):
                prefixes.add(".".join(parts[:i]))
        self.backbones = frozenset(p for p in prefixes if p not in self.path2type) | frozenset(
            self.elsewhere.values()
        )
        self.types = frozenset(self.parents) | {"Element", "Resource"}
        self._lists: dict[str, bool] | None = None
        self._lock = threading.Lock()

    def lists(self) -> dict[str, bool]:
        if self._lists is None:
            with self._lock:
                if self._lists is None:
                    from cds.cql.model.fhir_cardinality import load_list_paths

                    self._lists = load_list_paths(
                        sorted(self.types), self.backbones, frozenset(self.elsewhere)
                    )
        return self._lists


_MODEL: _Model | None = None
_MODEL_LOCK = threading.Lock()


def _model() -> _Model:
    global _MODEL
    if _MODEL is None:
        with _MODEL_LOCK:
            if _MODEL is None:
                _MODEL = _Model()
    return _MODEL


def _bare(name: str) -> str:
    return name.removeprefix("FHIR.")


def is_primitive_type(type_name: str) -> bool:
    """A FHIR primitive (``"dateTime"``) or a System type."""
    name = _bare(type_name)
    return name in system_types.FHIR_PRIMITIVE_TO_SYSTEM or system_types.is_system_type(name)


def is_fhir_type(type_name: str) -> bool:
    """A FHIR type or a backbone element path the model knows, or any type the FHIR model info
    declares (its bound-code types such as ``TestScriptRequestMethodCode``)."""
    name = _bare(type_name)
    model = _model()
    return name in model.types or name in model.backbones or name in _modelinfo_types()


@lru_cache(maxsize=1)
def _modelinfo_types() -> frozenset[str]:
    """The type names of the packaged model info table (``modelinfo.py``)."""
    table = json.loads((Path(__file__).parent / "fhir-modelinfo-4.0.1.json").read_text(encoding="utf-8"))
    return frozenset(table["types"])


def parent_type(type_name: str) -> str | None:
    """The base type (``"Observation"`` → ``"DomainResource"``; a backbone → BackboneElement)."""
    name = _bare(type_name)
    if system_types.is_system_type(name):
        return system_types.system_parent(name)
    model = _model()
    if name in model.parents:
        return model.parents[name]
    if name in model.backbones:
        return "BackboneElement"
    if name in ("Element", "Resource"):
        return system_types.ANY
    return None


@lru_cache(maxsize=4096)
def is_subtype(sub: str, sup: str) -> bool:
    """True when ``sub`` is ``sup`` or derives from it; every type derives from ``System.Any``."""
    target = _bare(sup)
    current: str | None = _bare(sub)
    while current is not None:
        if current == target:
            return True
        current = parent_type(current)
    return target == system_types.ANY


def is_resource_type(type_name: str) -> bool:
    name = _bare(type_name)
    return name != RESOURCE and name[:1].isupper() and is_subtype(name, RESOURCE)


def _element_path(type_name: str, name: str) -> str | None:
    """The model path of ``type_name.name``, looking through base types."""
    model = _model()
    current: str | None = _bare(type_name)
    while current is not None and not current.startswith("System."):
        path = f"{current}.{name}"
        if path in model.path2type or path in model.choices or path in model.backbones:
            return path
        if path in model.elsewhere:
            return path
        current = parent_type(current)
    return None


def element(type_name: str, name: str) -> ElementInfo:
    """The element ``name`` of ``type_name``; raises :class:`FhirModelError` when unknown."""
    path = _element_path(type_name, name)
    if path is None:
        raise FhirModelError(f"FHIR type {_bare(type_name)!r} has no element {name!r}")
    model = _model()
    if path in model.choices:
        types = tuple(model.path2type[path + t[0].upper() + t[1:]] for t in model.choices[path])
        is_list = False
    else:
        if path in model.elsewhere:
            types = (model.elsewhere[path],)
        elif path in model.path2type:
            types = (model.path2type[path],)
        else:
            types = (path,)
        lists = model.lists()
        if path not in lists:
            raise FhirModelError(f"the cardinality of FHIR element {path!r} is unknown")
        is_list = lists[path]
    return ElementInfo(name, types, is_list, all(is_primitive_type(t) for t in types))


def choice_element(type_name: str, name: str) -> tuple[str, str] | None:
    """For a concrete choice property (``"valueQuantity"``): (choice name, type); else None."""
    model = _model()
    for choice_name, suffixes in _choice_index(_bare(type_name), model).items():
        for suffix in suffixes:
            if name == choice_name + suffix[0].upper() + suffix[1:]:
                return choice_name, model.path2type[f"{_element_path(type_name, choice_name)}{suffix}"]
    return None


def _choice_index(type_name: str, model: _Model) -> dict[str, list[str]]:
    prefix = type_name + "."
    return {
        path[len(prefix) :]: suffixes
        for path, suffixes in model.choices.items()
        if path.startswith(prefix) and "." not in path[len(prefix) :]
    }


@lru_cache(maxsize=4096)
def choice_suffixes(type_name: str, name: str) -> tuple[tuple[str, str], ...]:
    """For a choice element: ((JSON property name, FHIR type), ...), e.g. ('valueQuantity',
    'Quantity'); empty for an element that is not a choice."""
    path = _element_path(type_name, name)
    model = _model()
    if path is None or path not in model.choices:
        return ()
    out = []
    for suffix in model.choices[path]:
        prop = name + suffix[0].upper() + suffix[1:]
        out.append((prop, model.path2type[path + suffix[0].upper() + suffix[1:]]))
    return tuple(out)


def primary_code_path(resource_type: str) -> str | None:
    """The FHIR model info's primaryCodePath of a resource type, or None when it has none."""
    return PRIMARY_CODE_PATHS.get(_bare(resource_type))


def system_type_of(type_name: str) -> str | None:
    """The System type of a FHIR primitive (``"code"`` → ``"System.String"``)."""
    name = _bare(type_name)
    if system_types.is_system_type(name):
        return name
    return system_types.fhir_primitive_system_type(name)
