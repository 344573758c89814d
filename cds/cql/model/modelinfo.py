"""Reading a CQL model info (``fhir-modelinfo-4.0.1.xml``) into the compact table the engine
loads at start-up (``fhir-modelinfo-4.0.1.json`` beside this module).

The XML is the source; ``scripts/generate_fhir_model.py`` runs :func:`build_table` and writes
the JSON, and a test checks that the committed JSON equals what the XML gives today. The table:

* ``types``: FHIR type name (without ``FHIR.``; backbone elements as the model info names them,
  ``"Observation.Component"``) → ``[base type, primary code path or null, retrievable,
  {element name: [type name or [choice type names], repeats]}]``;
* ``primitives``: every type whose ``value`` element is a System type (the FHIR primitives and
  the model info's bound-code types such as ``TestScriptRequestMethodCode``) → that System type;
* ``conversions``: ``[from type, to type, function]`` (the model info's ``conversionInfo``);
* ``source``: the SHA-256 of the XML it was read from.

System type names keep their ``System.`` prefix; FHIR names lose ``FHIR.``.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

_NS = "{urn:hl7-org:elm-modelinfo:r1}"
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
FORMAT = 1


def _bare(name: str) -> str:
    return name.removeprefix("FHIR.")


def _named(spec: ET.Element) -> str:
    """A NamedTypeSpecifier (``namespace``/``modelName`` + ``name``) as a type name."""
    ns = spec.get("namespace") or spec.get("modelName")
    name = spec.get("name") or ""
    return _bare(f"{ns}.{name}" if ns and not name.startswith(ns + ".") else name)


def _spec_types(spec: ET.Element) -> tuple[str | list[str], bool]:
    """(type or choice types, repeats) of an ``elementTypeSpecifier``."""
    kind = (spec.get(_XSI_TYPE) or "").split(":")[-1]
    if kind == "ListTypeSpecifier":
        if spec.get("elementType"):
            return _bare(spec.get("elementType") or ""), True
        inner = spec.find(f"{_NS}elementTypeSpecifier")
        if inner is None:
            raise ValueError("a ListTypeSpecifier without an element type")
        types, _ = _spec_types(inner)
        return types, True
    if kind == "ChoiceTypeSpecifier":
        choices = [_named(c) for c in spec.findall(f"{_NS}choice")]
        return choices, False
    if kind == "NamedTypeSpecifier":
        return _named(spec), False
    raise ValueError(f"unknown type specifier {kind!r}")


def _element(elem: ET.Element) -> tuple[str | list[str], bool]:
    if elem.get("elementType"):
        return _bare(elem.get("elementType") or ""), False
    spec = elem.find(f"{_NS}elementTypeSpecifier")
    if spec is None:
        raise ValueError(f"element {elem.get('name')!r} has no type")
    return _spec_types(spec)


def build_table(xml_path: Path) -> dict[str, Any]:
    """The compact table of the model info at ``xml_path`` (see the module docstring)."""
    raw = xml_path.read_bytes()
    root = ET.fromstring(raw)
    types: dict[str, Any] = {}
    primitives: dict[str, str] = {}
    conversions: list[list[str]] = []
    for info in root:
        tag = info.tag.removeprefix(_NS)
        if tag == "conversionInfo":
            conversions.append(
                [
                    _bare(info.get("fromType") or ""),
                    _bare(info.get("toType") or ""),
                    info.get("functionName") or "",
                ]
            )
            continue
        if tag != "typeInfo":
            continue
        name = _bare(info.get("name") or "")
        if info.get("namespace") and not name.startswith(info.get("namespace") or ""):
            name = _bare(name)
        elements: dict[str, Any] = {}
        for elem in info.findall(f"{_NS}element"):
            elem_types, repeats = _element(elem)
            elements[elem.get("name") or ""] = [elem_types, repeats]
        value = elements.get("value")
        if value is not None and isinstance(value[0], str) and value[0].startswith("System."):
            primitives[name] = value[0]
        types[name] = [
            _bare(info.get("baseType") or "System.Any"),
            info.get("primaryCodePath"),
            info.get("retrievable") == "true",
            elements,
        ]
    conversions.sort()
    return {
        "format": FORMAT,
        "source": hashlib.sha256(raw).hexdigest(),
        "types": dict(sorted(types.items())),
        "primitives": dict(sorted(primitives.items())),
        "conversions": conversions,
    }
