"""The FHIR 4.0.1 model info as the type resolver reads it: each type's base type, elements
(with their types, choices and cardinality), primary code path, retrievability, and the
model's implicit conversions (``conversionInfo``: ``FHIR.dateTime`` → ``System.DateTime`` by
``FHIRHelpers.ToDateTime``).

The source is the generated table ``cds/cql/model/fhir-modelinfo-4.0.1.json`` (see
:mod:`cds.cql.model.modelinfo`), read once per process. System types come from
:mod:`cds.cql.model.system_types`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from cds.cql.model.fhir_400 import CODE_TYPES_4_0_0
from cds.cql.model.system_types import SYSTEM_PARENTS
from cds.cql.types.specifiers import (
    ANY,
    ChoiceType,
    CqlType,
    IntervalType,
    ListType,
    NamedType,
)

TABLE = Path(__file__).resolve().parents[1] / "model" / "fhir-modelinfo-4.0.1.json"


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    table: dict[str, Any] = json.loads(TABLE.read_text(encoding="utf-8"))
    return table


def _named(local: str) -> NamedType:
    return NamedType(local if local.startswith("System.") else f"FHIR.{local}")


def is_fhir_type(local: str) -> bool:
    """Whether the FHIR model has a type ``local`` (``"Observation"``, ``"Observation.Component"``)."""
    return local in _table()["types"]


def base_type(t: NamedType) -> NamedType | None:
    """The direct base type (``FHIR.code`` → ``FHIR.string``; ``System.Any`` has none)."""
    if t.model == "System":
        parent = SYSTEM_PARENTS.get(t.name)
        return NamedType(parent) if parent else None
    info = _table()["types"].get(t.local)
    if info is None:
        return NamedType("FHIR.Element") if t.local in CODE_TYPES_4_0_0 else ANY
    return _named(info[0])


@lru_cache(maxsize=4096)
def ancestors(t: NamedType) -> tuple[NamedType, ...]:
    """``t`` and its base types up to ``System.Any``."""
    out = [t]
    current = base_type(t)
    while current is not None:
        out.append(current)
        current = base_type(current)
    return tuple(out)


def _spec(types: str | list[str], repeats: bool) -> CqlType:
    single: CqlType
    if isinstance(types, list):
        single = ChoiceType(tuple(_named(n) for n in types))
    else:
        single = _named(types)
    return ListType(single) if repeats else single


def element_type(t: NamedType, name: str) -> CqlType | None:
    """The type of element ``name`` of FHIR type ``t`` (inherited elements too), or None."""
    types = _table()["types"]
    if t.model == "FHIR" and t.local in CODE_TYPES_4_0_0:
        if name == "value":
            return NamedType("System.String")
        t = NamedType("FHIR.Element")
    for owner in ancestors(t):
        if owner.model != "FHIR":
            return None
        info = types.get(owner.local)
        if info is None:
            return None
        elem = info[3].get(name)
        if elem is not None:
            return _spec(elem[0], elem[1])
    return None


def primary_code_path(t: NamedType) -> str | None:
    info = _table()["types"].get(t.local) if t.model == "FHIR" else None
    return info[1] if info else None


def is_retrievable(t: NamedType) -> bool:
    info = _table()["types"].get(t.local) if t.model == "FHIR" else None
    return bool(info and info[2])


@lru_cache(maxsize=1)
def _conversions() -> dict[str, tuple[CqlType, str]]:
    out: dict[str, tuple[CqlType, str]] = {}
    for source, target, function in _table()["conversions"]:
        to: CqlType
        if target.startswith("Interval<"):
            to = IntervalType(NamedType(target[len("Interval<") : -1]))
        else:
            to = NamedType(target)
        out[f"FHIR.{source}"] = (to, function.split(".", 1)[1])
    return out


def conversion_table() -> list[tuple[NamedType, CqlType, str]]:
    """Every conversion the model info declares: (FHIR type, target type, FHIRHelpers function)."""
    return [(NamedType(source), target, name) for source, (target, name) in _conversions().items()]


def conversion(t: NamedType) -> tuple[CqlType, str] | None:
    """The model's implicit conversion of ``t`` (target type, FHIRHelpers function name)."""
    return _conversions().get(t.name)


@lru_cache(maxsize=4096)
def conversions_from(t: NamedType) -> tuple[tuple[NamedType, CqlType, str], ...]:
    """Conversions that apply to ``t`` or one of its base types (nearest first):
    (declared source type, target type, function)."""
    out = []
    for owner in ancestors(t):
        found = conversion(owner)
        if found is not None:
            out.append((owner, found[0], found[1]))
    return tuple(out)


def retrievable_template(t: NamedType) -> str:
    return f"http://hl7.org/fhir/StructureDefinition/{t.local}"
