"""CQL type specifiers (CQL 1.5 §2 "Types"; ELM ``TypeSpecifier``): the static types the resolver
gives every expression.

A type is one of :class:`NamedType` (a System or model type by qualified name:
``System.Integer``, ``FHIR.Observation``, ``FHIR.Observation.Component``), :class:`ListType`,
:class:`IntervalType`, :class:`TupleType` or :class:`ChoiceType`. The type of ``null`` is
:data:`NULL` (written ``System.Any`` in ELM; it converts to every type). Types are immutable and
hashable; :func:`to_elm` writes a type as an ELM JSON type specifier and :func:`elm_name` a named
type as ELM's qualified name (``{urn:hl7-org:elm-types:r1}Integer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SYSTEM_URI = "urn:hl7-org:elm-types:r1"
FHIR_URI = "http://hl7.org/fhir"
MODEL_URIS = {"System": SYSTEM_URI, "FHIR": FHIR_URI}


@dataclass(frozen=True, slots=True)
class NamedType:
    name: str  # qualified: "System.Integer", "FHIR.Observation"

    @property
    def model(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def local(self) -> str:
        return self.name.split(".", 1)[1]

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class ListType:
    element: CqlType

    def __str__(self) -> str:
        return f"List<{self.element}>"


@dataclass(frozen=True, slots=True)
class IntervalType:
    point: CqlType

    def __str__(self) -> str:
        return f"Interval<{self.point}>"


@dataclass(frozen=True, slots=True)
class TupleType:
    elements: tuple[tuple[str, CqlType], ...]

    def element(self, name: str) -> CqlType | None:
        for key, value in self.elements:
            if key == name:
                return value
        return None

    def __str__(self) -> str:
        inner = ", ".join(f"{k} {v}" for k, v in self.elements)
        return f"Tuple {{ {inner} }}"


@dataclass(frozen=True, slots=True)
class ChoiceType:
    choices: tuple[CqlType, ...]

    def __str__(self) -> str:
        return "Choice<" + ", ".join(str(c) for c in self.choices) + ">"


CqlType = NamedType | ListType | IntervalType | TupleType | ChoiceType


def system(name: str) -> NamedType:
    return NamedType(f"System.{name}")


ANY = system("Any")
NULL = NamedType("System.Null")  # the type of the null literal; ELM writes it as Any
BOOLEAN = system("Boolean")
INTEGER = system("Integer")
LONG = system("Long")
DECIMAL = system("Decimal")
STRING = system("String")
DATE = system("Date")
DATETIME = system("DateTime")
TIME = system("Time")
QUANTITY = system("Quantity")
RATIO = system("Ratio")
CODE = system("Code")
CONCEPT = system("Concept")
VALUESET = system("ValueSet")
CODESYSTEM = system("CodeSystem")
VOCABULARY = system("Vocabulary")


def choice_of(types: list[CqlType]) -> CqlType:
    """The choice of ``types`` (flattened, without duplicates); a single type stays itself."""
    flat: list[CqlType] = []
    for t in types:
        for c in t.choices if isinstance(t, ChoiceType) else (t,):
            if c not in flat:
                flat.append(c)
    return flat[0] if len(flat) == 1 else ChoiceType(tuple(flat))


def elm_name(t: NamedType) -> str:
    """``{uri}Local`` as ELM writes a named type."""
    if t == NULL:
        return "{" + SYSTEM_URI + "}Any"
    return "{" + MODEL_URIS[t.model] + "}" + t.local


def to_elm(t: CqlType) -> dict[str, Any]:
    """The ELM JSON type specifier of ``t``."""
    if isinstance(t, NamedType):
        return {"type": "NamedTypeSpecifier", "name": elm_name(t)}
    if isinstance(t, ListType):
        return {"type": "ListTypeSpecifier", "elementType": to_elm(t.element)}
    if isinstance(t, IntervalType):
        return {"type": "IntervalTypeSpecifier", "pointType": to_elm(t.point)}
    if isinstance(t, TupleType):
        return {
            "type": "TupleTypeSpecifier",
            "element": [{"name": k, "elementType": to_elm(v)} for k, v in t.elements],
        }
    return {"type": "ChoiceTypeSpecifier", "choice": [to_elm(c) for c in t.choices]}
