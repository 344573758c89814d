"""What the compiler decides from an expression's static type (recorded by the typed walk,
:mod:`cds.cql.elm.static_types`): how an operator argument is converted (the implicit FHIRHelpers
conversion), and the operand kind that picks a specialised operator.

Run-time values of a static type: a FHIR primitive (``FHIR.string``, ``FHIR.dateTime``, a bound
code such as ``FHIR.ObservationStatus``) is already its System value (``runtime.fhir`` reads it
so); a FHIR Quantity, Coding, CodeableConcept, Period, Range or Ratio (or a subtype) is a
``FhirNode`` that ``to_system`` converts; a resource or another FHIR element needs no conversion.
Where the walk converted a FHIR value to a System complex type the compiler did not convert
(a conditional with a FHIR branch and a System branch), the value may still be a ``FhirNode``:
those arguments keep a one-test guard (``GUARD``).
"""

from __future__ import annotations

from functools import lru_cache

from cds.cql.types import model_info
from cds.cql.types.specifiers import (
    ChoiceType,
    CqlType,
    IntervalType,
    ListType,
    NamedType,
    TupleType,
)

#: No conversion: the value is already what the operator takes.
NONE = 0
#: The FHIRHelpers conversion, decided at compile time (``runtime.fhir.to_system``).
TO_SYSTEM = 1
#: A System complex type: convert only a FHIR node an unconverted branch may have left.
GUARD = 2
#: The type is not known (no static type, a choice, Any): the conversion is decided at run time.
RUNTIME = 3

_SYSTEM_PRIMITIVES = frozenset(
    {
        "System.Boolean",
        "System.Integer",
        "System.Long",
        "System.Decimal",
        "System.String",
        "System.Date",
        "System.DateTime",
        "System.Time",
        "System.Null",
        "System.ValueSet",
        "System.CodeSystem",
        "System.Vocabulary",
    }
)
_SYSTEM_COMPLEX = frozenset({"System.Quantity", "System.Ratio", "System.Code", "System.Concept"})
#: FHIR types whose values may be of any element type (a Quantity among them).
_FHIR_ABSTRACT = frozenset({"FHIR.Element", "FHIR.BackboneElement", "FHIR.Resource", "FHIR.DomainResource"})


@lru_cache(maxsize=1024)
def conversion_plan(t: CqlType | None) -> int:
    """How an operator argument of static type ``t`` is converted (NONE, TO_SYSTEM, GUARD,
    RUNTIME)."""
    if t is None or isinstance(t, ChoiceType):
        return RUNTIME
    if isinstance(t, ListType):
        return conversion_plan(t.element)
    if isinstance(t, IntervalType | TupleType):
        return NONE  # System intervals and tuples: system() converts neither
    name = t.name
    if name in _SYSTEM_PRIMITIVES:
        return NONE
    if name in _SYSTEM_COMPLEX:
        return GUARD
    if t.model == "FHIR":
        found = model_info.conversions_from(t)
        if found:
            target = found[0][1]
            if isinstance(target, NamedType) and target.name in _SYSTEM_PRIMITIVES:
                return NONE  # a FHIR primitive reads as its System value
            return TO_SYSTEM
        return RUNTIME if name in _FHIR_ABSTRACT else NONE
    return RUNTIME  # System.Any and what else is not known


@lru_cache(maxsize=1024)
def operand_kind(t: CqlType | None) -> str | None:
    """The System type name a value of static type ``t`` has at run time (``List<K>`` for a
    list), for choosing a specialised operator; None when not one simple kind."""
    if t is None:
        return None
    if isinstance(t, ListType):
        inner = operand_kind(t.element)
        return None if inner is None or inner.startswith("List<") else f"List<{inner}>"
    if not isinstance(t, NamedType):
        return None
    if t.model == "System":
        return t.local
    if t.model == "FHIR":
        found = model_info.conversions_from(t)
        if found:
            target = found[0][1]
            if isinstance(target, NamedType) and target.name in _SYSTEM_PRIMITIVES:
                return target.local
    return None


#: The static type to give an operator argument that is no expression of the library but the
#: result of another System operator (always a System value: nothing to convert).
A_SYSTEM_VALUE = NamedType("System.Null")


def describe(t: CqlType | None) -> str:
    return "unknown" if t is None else str(t)
