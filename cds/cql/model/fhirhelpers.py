"""FHIRHelpers 4.0.1, provided natively.

``include FHIRHelpers version '4.0.1'`` resolves (through :func:`native_library`) to
:data:`FHIRHELPERS`, a :class:`NativeLibrary`: overloads of each function with qualified operand
and result type names (``"FHIR.Quantity"`` → ``"System.Quantity"``; generic result types are
written ``"Interval<System.DateTime>"``) and a Python implementation over runtime values.

The semantics are those of the published FHIRHelpers 4.0.1 (ToQuantity refuses a comparator and
non-UCUM systems, maps calendar-unit codes; ToInterval(Period) is open at a missing start; ...).
FHIR primitives already arrive as System values (``runtime.fhir``), so the primitive ``ToX``
functions are identities that check the value's type.

:data:`IMPLICIT_CONVERSIONS` is the FHIR model info's conversion table: the compiler inserts
these calls where a FHIR-typed value is used as the System type.
"""

from __future__ import annotations

import datetime as _dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.model.system_types import FHIR_PRIMITIVE_TO_SYSTEM
from cds.cql.runtime import fhir


@dataclass(frozen=True, slots=True)
class NativeFunction:
    """One overload: ``name(operand_types...) -> result_type`` implemented by ``impl``."""

    name: str
    operand_types: tuple[str, ...]
    result_type: str
    impl: Callable[..., Any]


@dataclass(frozen=True)
class NativeLibrary:
    """A library implemented in Python; ``functions`` maps a name to its overloads."""

    name: str
    version: str
    functions: dict[str, list[NativeFunction]] = field(default_factory=dict)

    def overloads(self, name: str) -> list[NativeFunction]:
        return list(self.functions.get(name, ()))

    def resolve(self, name: str, operand_types: tuple[str, ...]) -> NativeFunction | None:
        """The overload whose operand types are exactly ``operand_types`` (qualified names)."""
        for fn in self.functions.get(name, ()):
            if fn.operand_types == operand_types:
                return fn
        return None


def _node(value: Any, name: str) -> fhir.FhirNode | None:
    if value is None:
        return None
    if not isinstance(value, fhir.FhirNode):
        raise CqlRuntimeError(f"FHIRHelpers.{name} expects a FHIR element, not {type(value).__name__}")
    return value


def to_code(coding: Any) -> Any:
    node = _node(coding, "ToCode")
    return None if node is None else fhir.to_code(node)


def to_concept(concept: Any) -> Any:
    node = _node(concept, "ToConcept")
    return None if node is None else fhir.to_concept(node)


def to_quantity(quantity: Any) -> Any:
    node = _node(quantity, "ToQuantity")
    return None if node is None else fhir.to_quantity(node)


def to_quantity_ignoring_comparator(quantity: Any) -> Any:
    node = _node(quantity, "ToQuantityIgnoringComparator")
    return None if node is None else fhir.to_quantity(node, ignore_comparator=True)


def to_interval(value: Any) -> Any:
    node = _node(value, "ToInterval")
    return None if node is None else fhir.to_interval(node)


def to_ratio(ratio: Any) -> Any:
    node = _node(ratio, "ToRatio")
    return None if node is None else fhir.to_ratio(node)


def to_calendar_unit(unit: Any) -> Any:
    if unit is None:
        return None
    return fhir.CALENDAR_UNITS.get(unit, unit)


def _identity(system_type: str) -> Callable[[Any], Any]:
    checks: dict[str, Callable[[Any], bool]] = {
        "System.String": lambda v: isinstance(v, str),
        "System.Boolean": lambda v: isinstance(v, bool),
        "System.Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "System.Long": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "System.Decimal": lambda v: isinstance(v, decimal.Decimal),
        "System.Date": lambda v: type(v).__name__ == "Date",
        "System.DateTime": lambda v: type(v).__name__ == "DateTime",
        "System.Time": lambda v: type(v).__name__ == "Time",
    }
    check = checks[system_type]

    def convert(value: Any) -> Any:
        if value is None or check(value):
            return value
        if isinstance(value, _dt.date | _dt.time):  # never produced by runtime.fhir
            raise CqlRuntimeError("FHIRHelpers: Python datetime values are not CQL values")
        raise CqlRuntimeError(f"FHIRHelpers: {value!r} is not a {system_type}")

    return convert


_PRIMITIVE_FUNCTIONS = {
    "System.String": "ToString",
    "System.Boolean": "ToBoolean",
    "System.Integer": "ToInteger",
    "System.Long": "ToLong",
    "System.Decimal": "ToDecimal",
    "System.Date": "ToDate",
    "System.DateTime": "ToDateTime",
    "System.Time": "ToTime",
}


def _build() -> NativeLibrary:
    lib = NativeLibrary("FHIRHelpers", "4.0.1")

    def add(name: str, operands: tuple[str, ...], result: str, impl: Callable[..., Any]) -> None:
        lib.functions.setdefault(name, []).append(NativeFunction(name, operands, result, impl))

    add("ToCode", ("FHIR.Coding",), "System.Code", to_code)
    add("ToConcept", ("FHIR.CodeableConcept",), "System.Concept", to_concept)
    add("ToQuantity", ("FHIR.Quantity",), "System.Quantity", to_quantity)
    add(
        "ToQuantityIgnoringComparator", ("FHIR.Quantity",), "System.Quantity", to_quantity_ignoring_comparator
    )
    add("ToInterval", ("FHIR.Period",), "Interval<System.DateTime>", to_interval)
    add("ToInterval", ("FHIR.Range",), "Interval<System.Quantity>", to_interval)
    add("ToInterval", ("FHIR.Quantity",), "Interval<System.Quantity>", to_interval)
    add("ToRatio", ("FHIR.Ratio",), "System.Ratio", to_ratio)
    add("ToCalendarUnit", ("System.String",), "System.String", to_calendar_unit)
    for fhir_type, system_type in FHIR_PRIMITIVE_TO_SYSTEM.items():
        add(_PRIMITIVE_FUNCTIONS[system_type], (f"FHIR.{fhir_type}",), system_type, _identity(system_type))
    return lib


FHIRHELPERS = _build()

#: FHIR type → (System type, FHIRHelpers function): the implicit conversions of the FHIR model.
IMPLICIT_CONVERSIONS: dict[str, tuple[str, str]] = {
    "FHIR.Coding": ("System.Code", "ToCode"),
    "FHIR.CodeableConcept": ("System.Concept", "ToConcept"),
    "FHIR.Quantity": ("System.Quantity", "ToQuantity"),
    "FHIR.Age": ("System.Quantity", "ToQuantity"),
    "FHIR.Duration": ("System.Quantity", "ToQuantity"),
    "FHIR.Count": ("System.Quantity", "ToQuantity"),
    "FHIR.Distance": ("System.Quantity", "ToQuantity"),
    "FHIR.SimpleQuantity": ("System.Quantity", "ToQuantity"),
    "FHIR.MoneyQuantity": ("System.Quantity", "ToQuantity"),
    "FHIR.Period": ("Interval<System.DateTime>", "ToInterval"),
    "FHIR.Range": ("Interval<System.Quantity>", "ToInterval"),
    "FHIR.Ratio": ("System.Ratio", "ToRatio"),
    **{f"FHIR.{t}": (s, _PRIMITIVE_FUNCTIONS[s]) for t, s in FHIR_PRIMITIVE_TO_SYSTEM.items()},
}

# Without a FHIRHelpers text in the library folders, the native 4.0.1 stands in for FHIRHelpers
# 4.0.0 too (which the Da Vinci libraries include; they declare FHIR 4.0.0, read as 4.0.1 with
# a load warning: cds.cql.api.model_warnings).
_NATIVE = {("FHIRHelpers", "4.0.1"): FHIRHELPERS, ("FHIRHelpers", "4.0.0"): FHIRHELPERS}


def native_library(name: str, version: str | None) -> NativeLibrary | None:
    """The native implementation of an included library, or None (then it is read from CQL)."""
    if version is None:
        return FHIRHELPERS if name == "FHIRHelpers" else None
    return _NATIVE.get((name, version))
