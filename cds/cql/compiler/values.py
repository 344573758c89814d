"""Run-time helpers the compiled closures share: property access over every kind of value,
the implicit FHIR → System conversion, and type tests for ``is``/``as``/``cast``."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.model import fhir_model
from cds.cql.runtime.clinical import Code, CodeSystemRef, Concept, ValueSetRef
from cds.cql.runtime.fhir import FhirNode, to_system, value_is
from cds.cql.runtime.interval import Interval
from cds.cql.runtime.quantity import Quantity, Ratio
from cds.cql.runtime.temporal import Date, DateTime, Time
from cds.cql.runtime.values import Long, Tuple

_ATTRIBUTES: dict[type, dict[str, str]] = {
    Code: {"code": "code", "system": "system", "version": "version", "display": "display"},
    Concept: {"codes": "codes", "display": "display"},
    Quantity: {"value": "value", "unit": "unit"},
    Ratio: {"numerator": "numerator", "denominator": "denominator"},
    Interval: {"low": "low", "high": "high", "lowClosed": "low_closed", "highClosed": "high_closed"},
    ValueSetRef: {"id": "id", "version": "version"},
    CodeSystemRef: {"id": "id", "version": "version"},
}
_PRIMITIVES = (str, bool, int, decimal.Decimal, Date, DateTime, Time)


def get_property(value: Any, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, FhirNode):
        return value.get(name)
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            got = get_property(item, name)
            if isinstance(got, list):
                out.extend(got)
            elif got is not None:
                out.append(got)
        return out
    if isinstance(value, dict):
        return value.get(name)
    attrs = _ATTRIBUTES.get(type(value))
    if attrs is not None and name in attrs:
        got = getattr(value, attrs[name])
        return list(got) if isinstance(got, tuple) else got
    if name == "value" and isinstance(value, _PRIMITIVES):
        return value  # a FHIR primitive, already read as its System value
    if name in ("id", "extension") and isinstance(value, _PRIMITIVES):
        return None
    raise CqlRuntimeError(f"a {type(value).__name__} has no property {name!r}")


def choice_member(
    source: Callable[[Any, dict[str, Any]], Any], name: str
) -> Callable[[Any, dict[str, Any]], Any]:
    """Property ``name`` of a value whose static type is a choice (``Procedure.performed``:
    dateTime, Period, string, Age, Range): read on the alternatives that have the element, null
    on those that do not (``performed.start`` of a dateTime), as the typed walk resolves it (a
    property of a choice is the property of the choice types that have it)."""

    def member_of_choice(ctx: Any, env: dict[str, Any]) -> Any:
        value = source(ctx, env)
        if isinstance(value, list):
            out: list[Any] = []
            for item in value:
                got = _choice_property(item, name)
                if isinstance(got, list):
                    out.extend(got)
                elif got is not None:
                    out.append(got)
            return out
        return _choice_property(value, name)

    return member_of_choice


def _choice_property(value: Any, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, FhirNode):
        return value.get(name) if _has_element(value.type_name, name) else None
    if isinstance(value, _PRIMITIVES) and name not in ("value", "id", "extension"):
        return None  # a primitive alternative has no other element
    attrs = _ATTRIBUTES.get(type(value))
    if attrs is not None and name not in attrs:
        return None
    return get_property(value, name)


@lru_cache(maxsize=1024)
def _has_element(type_name: str, name: str) -> bool:
    try:
        fhir_model.element(type_name, name)
    except fhir_model.FhirModelError:
        return False
    return True


def system(value: Any) -> Any:
    """The implicit FHIRHelpers conversion (FHIR Quantity, Coding, CodeableConcept, Period,
    Range, Ratio → System values); other values unchanged."""
    if isinstance(value, FhirNode):
        return to_system(value)
    if isinstance(value, list) and value and isinstance(value[0], FhirNode):
        return to_system(value)
    return value


_SYSTEM_TYPES: dict[str, Any] = {
    "Boolean": bool,
    "String": str,
    "Decimal": decimal.Decimal,
    "Date": Date,
    "DateTime": DateTime,
    "Time": Time,
    "Quantity": Quantity,
    "Ratio": Ratio,
    "Code": Code,
    "Concept": Concept,
    "ValueSet": ValueSetRef,
    "CodeSystem": CodeSystemRef,
    "Vocabulary": (ValueSetRef, CodeSystemRef),
    "Tuple": Tuple,
}
_SYSTEM_NAMES = frozenset({*_SYSTEM_TYPES, "Integer", "Long", "Any"})


def is_type(value: Any, spec: Any) -> bool:
    """CQL ``is``: the run-time type test for a resolved type description.

    ``spec`` is ('named', namespace, name) | ('list', spec) | ('interval', spec) |
    ('tuple', [(name, spec)]) | ('choice', [spec...])."""
    if value is None:
        return False
    kind = spec[0]
    if kind == "list":
        return isinstance(value, list) and all(v is None or is_type(v, spec[1]) for v in value)
    if kind == "interval":
        return isinstance(value, Interval) and all(
            v is None or is_type(v, spec[1]) for v in (value.low, value.high)
        )
    if kind == "tuple":
        return isinstance(value, dict) and not isinstance(value, FhirNode)
    if kind == "choice":
        return any(is_type(value, s) for s in spec[1])
    namespace, name = spec[1], spec[2]
    if namespace == "System" or (namespace is None and name in _SYSTEM_NAMES):
        if name == "Any":
            return True
        if name == "Integer":
            return type(value) is int
        if name == "Long":
            return isinstance(value, Long)
        if name == "Boolean":
            return isinstance(value, bool)
        expected = _SYSTEM_TYPES.get(name)
        return expected is not None and isinstance(value, expected) and not isinstance(value, bool)
    return value_is(value, name)  # a FHIR type, named without its "FHIR." prefix
