"""Cardinality of FHIR R4 elements: which element paths repeat (``0..*``/``1..*``).

fhirpathpy's R4 model data gives element types but not cardinality; the fhir.resources R4B
pydantic models give it (a repeating element is a ``List[...]`` field). R4B and R4 agree for
every resource this project reads (Patient, Condition, Observation, Procedure, MedicationRequest,
MedicationStatement, Goal, QuestionnaireResponse, ServiceRequest, Coverage, RelatedPerson,
Encounter, Practitioner, PractitionerRole, Organization, Bundle) and the data types.

Importing the pydantic models costs a few hundred milliseconds, so the table of repeating
paths is built once and kept in a JSON file in the user cache directory (keyed by the
fhir.resources version); later processes read the file. ``DLI_CDS_CACHE_DIR`` overrides the
directory. A cache that cannot be written is not an error: the table is then rebuilt per process.
"""

from __future__ import annotations

import json
import os
import tempfile
import typing
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

_FORMAT = 1


def cache_path() -> Path:
    base = os.environ.get("DLI_CDS_CACHE_DIR")
    if base:
        root = Path(base)
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dli-cds"
    version = metadata.version("fhir.resources")
    return root / f"fhir-r4-cardinality-{version}-v{_FORMAT}.json"


def _model_class_of(annotation: Any) -> type | None:
    """The pydantic model class a field annotation refers to (through Optional/List)."""
    getter = getattr(annotation, "get_model_klass", None)
    if callable(getter):
        klass = getter()
        return klass if isinstance(klass, type) else None
    for arg in typing.get_args(annotation):
        found = _model_class_of(arg)
        if found is not None:
            return found
    return None


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation))


def build_list_paths(
    type_names: Iterable[str], backbone_paths: frozenset[str], elsewhere: frozenset[str]
) -> dict[str, bool]:
    """Walk the R4B model of each type; return element path → repeats, for every element found.

    ``backbone_paths`` are paths whose type is an inline backbone element (walked recursively);
    ``elsewhere`` are backbone paths defined at another path (not walked again).
    """
    from fhir.resources.R4B import get_fhir_model_class

    table: dict[str, bool] = {}

    def walk(klass: type, prefix: str, depth: int) -> None:
        fields: dict[str, Any] = getattr(klass, "model_fields", {})
        for field in fields.values():
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            if extra.get("element_property") is not True:
                continue
            path = f"{prefix}.{field.alias}"
            table[path] = _is_list(field.annotation)
            if path in backbone_paths and path not in elsewhere and depth < 12:
                inner = _model_class_of(field.annotation)
                if inner is not None:
                    walk(inner, path, depth + 1)

    for name in type_names:
        if not name[:1].isupper():
            continue
        try:
            klass = get_fhir_model_class(name)
        except (KeyError, ValueError, ImportError, AttributeError):
            continue  # an R4 type that R4B removed: its cardinality stays unknown
        walk(klass, name, 0)
    return table


def load_list_paths(
    type_names: Iterable[str], backbone_paths: frozenset[str], elsewhere: frozenset[str]
) -> dict[str, bool]:
    """The cardinality table: from the cache file when present, else built and cached."""
    path = cache_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("format") == _FORMAT:
            table = data.get("paths")
            if isinstance(table, dict):
                return {str(k): bool(v) for k, v in table.items()}
    except (OSError, ValueError):
        pass
    table = build_list_paths(type_names, backbone_paths, elsewhere)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"format": _FORMAT, "paths": table}, fh)
        os.replace(tmp, path)
    except OSError:
        pass
    return table
