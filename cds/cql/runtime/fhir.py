"""FHIR data as CQL runtime values: :class:`FhirNode` wraps a FHIR JSON object (a resource or a
complex element) and reads its elements with the R4 model's types.

Reading an element (:meth:`FhirNode.get`):

* a primitive becomes a System value (``string``/``code``/``uri``… → ``str``, ``boolean`` →
  ``bool``, ``integer`` → ``int``, ``decimal`` → ``Decimal``, ``date`` → ``Date``,
  ``dateTime``/``instant`` → ``DateTime``, ``time`` → ``Time``);
* a complex element becomes a ``FhirNode`` of its type (a backbone element is typed by its path,
  ``"Observation.component"``; a ``Resource``-typed element by its ``resourceType``);
* a choice element (``value``) reads whichever ``value[x]`` property is present;
* a repeating element becomes a Python list; an absent element is ``None`` (``[]`` for a list).

:func:`to_system` applies the FHIRHelpers 4.0.1 conversions (Quantity and its specialisations →
Quantity, Coding → Code, CodeableConcept → Concept, Period → Interval<DateTime>, Range →
Interval<Quantity>, Ratio → Ratio).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from cds.cql.errors import CqlRuntimeError
from cds.cql.model import fhir_model, system_types
from cds.cql.runtime import temporal
from cds.cql.runtime.clinical import Code, Concept

QUANTITY_TYPES = frozenset(
    {"Quantity", "Age", "Duration", "Count", "Distance", "SimpleQuantity", "MoneyQuantity"}
)
UCUM = "http://unitsofmeasure.org"
CALENDAR_UNITS_SYSTEM = "http://hl7.org/fhirpath/CodeSystem/calendar-units"
CALENDAR_UNITS = {
    "ms": "millisecond", "s": "second", "min": "minute", "h": "hour",
    "d": "day", "wk": "week", "mo": "month", "a": "year",
}  # fmt: skip


class FhirNode:
    """A FHIR resource or complex element: ``type_name`` (FHIR type, without ``FHIR.``) and
    ``data`` (its JSON object).

    A node refers to nothing but its JSON and the values it has read (never to its parent or
    its resource), so a request's nodes form no reference cycles: they are freed as soon as the
    evaluation lets go of them, without waiting for the cyclic garbage collector (which, with
    a back-reference per node, was traversing and promoting hundreds of them per request)."""

    __slots__ = ("type_name", "data", "_memo")

    def __init__(self, type_name: str, data: dict[str, Any]) -> None:
        self.type_name = type_name.removeprefix("FHIR.")
        self.data = data
        self._memo: dict[str, Any] | None = None  # element name -> value (read once per node)

    @classmethod
    def of_resource(cls, data: dict[str, Any]) -> FhirNode:
        """Wrap a resource's JSON (its type from ``resourceType``)."""
        rtype = data.get("resourceType")
        if not isinstance(rtype, str):
            raise CqlRuntimeError("a FHIR resource must have a resourceType")
        return cls(rtype, data)

    def get(self, name: str) -> Any:
        """The element ``name`` as a runtime value (see the module docstring); read once per node
        (callers never mutate what it returns)."""
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        elif name in memo:
            return memo[name]
        value = self._read(name)
        memo[name] = value
        return value

    def _read(self, name: str) -> Any:
        try:
            plan = _plan(self.type_name, name)
        except fhir_model.FhirModelError as exc:
            raise CqlRuntimeError(exc.message) from exc
        data = self.data
        for prop, read, is_list in plan:
            raw = data.get(prop)
            if raw is None:
                continue
            if is_list:
                items = raw if isinstance(raw, list) else [raw]
                return [read(item) for item in items if item is not None]
            return read(raw)
        return [] if plan and plan[0][2] else None

    def primitive_element(self, name: str) -> Any:
        """The ``_name`` object of a primitive (its ``id`` and ``extension``), as an Element."""
        raw = self.data.get("_" + name)
        if isinstance(raw, list):
            return [FhirNode("Element", item) if item else None for item in raw]
        return FhirNode("Element", raw) if isinstance(raw, dict) else None

    def reference(self) -> str | None:
        """``Type/id`` of a resource (for evidence); None for an element or without an id."""
        if "resourceType" not in self.data:
            return None
        rid = self.data.get("id")
        return f"{self.type_name}/{rid}" if isinstance(rid, str) else None

    def is_a(self, type_name: str) -> bool:
        """CQL ``is``: the node's type is ``type_name`` or derives from it."""
        return fhir_model.is_subtype(self.type_name, type_name)

    def cql_equal(self, other: object) -> bool | None:
        if not isinstance(other, FhirNode):
            return False
        return self.type_name == other.type_name and self.data == other.data

    def cql_equivalent(self, other: object) -> bool:
        return self.cql_equal(other) is True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FhirNode) and (self.type_name, self.data) == (other.type_name, other.data)

    def __hash__(self) -> int:
        return hash((self.type_name, self.data.get("id")))

    def __repr__(self) -> str:
        ref = self.reference()
        return f"FhirNode({self.type_name}{', ' + ref if ref else ''})"


Reader = Callable[[Any], Any]


@lru_cache(maxsize=4096)
def _plan(type_name: str, name: str) -> tuple[tuple[str, Reader, bool], ...]:
    """How to read ``type_name.name``: the JSON properties to try, each with the reader of its
    type (chosen once here, not at every read) and whether it repeats."""
    info = fhir_model.element(type_name, name)
    choices = fhir_model.choice_suffixes(type_name, name)
    if choices:
        return tuple((prop, _reader(t), False) for prop, t in choices)
    return ((name, _reader(info.types[0]), info.is_list),)


@lru_cache(maxsize=1024)
def _reader(fhir_type: str) -> Reader:
    """Reads a JSON value of ``fhir_type`` as a runtime value (a System value for a primitive, a
    FhirNode for a resource or complex element); decided once per type."""
    if fhir_type in system_types.FHIR_PRIMITIVE_TO_SYSTEM or fhir_type.startswith("System."):
        if fhir_model.system_type_of(fhir_type) == "System.String":

            def string(raw: Any) -> Any:
                if type(raw) is str:
                    return raw
                return primitive_to_system(fhir_type, raw)  # raises the typed error

            return string
        if fhir_model.system_type_of(fhir_type) in ("System.Date", "System.DateTime", "System.Time"):
            parse = _temporal_parser(fhir_type)

            def date_or_time(raw: Any) -> Any:
                if type(raw) is str:
                    return parse(raw)
                return primitive_to_system(fhir_type, raw)  # raises the typed error

            return date_or_time
        return lambda raw: primitive_to_system(fhir_type, raw)
    if fhir_type == "Resource" or fhir_type == "DomainResource":

        def resource(raw: Any) -> Any:
            if not isinstance(raw, dict):
                raise CqlRuntimeError(f"FHIR {fhir_type} value must be a JSON object, not {raw!r}")
            return FhirNode.of_resource(raw)

        return resource

    def element(raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise CqlRuntimeError(f"FHIR {fhir_type} value must be a JSON object, not {raw!r}")
        return FhirNode(fhir_type, raw)

    return element


def _temporal_parser(fhir_type: str) -> Callable[[str], Any]:
    if fhir_type == "date":
        return temporal.parse_date
    if fhir_type == "time":
        return temporal.parse_time
    return temporal.parse_datetime


def primitive_to_system(fhir_type: str, raw: Any) -> Any:
    """A FHIR primitive's JSON value as the System value of its type."""
    system = fhir_model.system_type_of(fhir_type)
    if system == "System.String":
        if not isinstance(raw, str):
            raise CqlRuntimeError(f"FHIR {fhir_type} value must be a string, not {raw!r}")
        return raw
    if system == "System.Boolean":
        if not isinstance(raw, bool):
            raise CqlRuntimeError(f"FHIR boolean value must be true or false, not {raw!r}")
        return raw
    if system in ("System.Integer", "System.Long"):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise CqlRuntimeError(f"FHIR {fhir_type} value must be an integer, not {raw!r}")
        return raw
    if system == "System.Decimal":
        if isinstance(raw, decimal.Decimal):
            return raw
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise CqlRuntimeError(f"FHIR decimal value must be a number, not {raw!r}")
        try:
            return decimal.Decimal(repr(raw) if isinstance(raw, float) else raw)
        except decimal.InvalidOperation as exc:
            raise CqlRuntimeError(f"FHIR decimal value {raw!r} is not a number") from exc
    if system in ("System.Date", "System.DateTime", "System.Time"):
        if not isinstance(raw, str):
            raise CqlRuntimeError(f"FHIR {fhir_type} value must be a string, not {raw!r}")
        return _temporal_parser(fhir_type)(raw)
    raise CqlRuntimeError(f"no System type for the FHIR primitive {fhir_type!r}")


def to_quantity(node: FhirNode, *, ignore_comparator: bool = False) -> Any:
    """FHIRHelpers ToQuantity: a System Quantity (UCUM or calendar units; no comparator)."""
    value = node.get("value")
    if value is None:
        return None
    if node.data.get("comparator") is not None and not ignore_comparator:
        raise CqlRuntimeError(
            "FHIR Quantity value has a comparator and cannot be converted to a System.Quantity value."
        )
    system = node.data.get("system")
    if system is not None and system not in (UCUM, CALENDAR_UNITS_SYSTEM):
        raise CqlRuntimeError(
            f"Invalid FHIR Quantity code: {node.data.get('unit')} ({system}|{node.data.get('code')})"
        )
    from cds.cql.runtime.quantity import Quantity

    unit = node.data.get("code") or node.data.get("unit") or "1"
    return Quantity(value, CALENDAR_UNITS.get(unit, unit))


def to_code(node: FhirNode) -> Code:
    """FHIRHelpers ToCode (Coding → Code)."""
    return _code(node.data)


def to_concept(node: FhirNode) -> Concept:
    """FHIRHelpers ToConcept (CodeableConcept → Concept); its Codings read straight from JSON."""
    codings = node.data.get("coding") or []
    return Concept(tuple(_code(c) for c in codings if isinstance(c, dict)), node.data.get("text"))


def _code(coding: dict[str, Any]) -> Code:
    return Code(coding.get("code"), coding.get("system"), coding.get("version"), coding.get("display"))


def to_interval(node: FhirNode) -> Any:
    """FHIRHelpers ToInterval of a Period (Interval<DateTime>; open low when start is absent),
    a Range (Interval<Quantity>) or a Quantity with a comparator (half-bounded interval)."""
    from cds.cql.runtime.interval import Interval

    if node.type_name == "Period":
        start, end = node.get("start"), node.get("end")
        return Interval(start, end, start is not None, True)
    if node.type_name == "Range":
        low, high = node.get("low"), node.get("high")
        return Interval(
            None if low is None else to_quantity(low), None if high is None else to_quantity(high), True, True
        )
    if node.type_name in QUANTITY_TYPES:
        q = to_quantity(node, ignore_comparator=True)
        comparator = node.data.get("comparator")
        if comparator == "<":
            return Interval(None, q, True, False)
        if comparator == "<=":
            return Interval(None, q, True, True)
        if comparator == ">=":
            return Interval(q, None, True, True)
        if comparator == ">":
            return Interval(q, None, False, True)
        q = to_quantity(node)
        return Interval(q, q, True, True)
    raise CqlRuntimeError(f"FHIRHelpers.ToInterval does not apply to FHIR {node.type_name}")


def to_ratio(node: FhirNode) -> Any:
    """FHIRHelpers ToRatio."""
    from cds.cql.runtime.quantity import Ratio

    num, den = node.get("numerator"), node.get("denominator")
    return Ratio(None if num is None else to_quantity(num), None if den is None else to_quantity(den))


def to_system(value: Any) -> Any:
    """Apply the implicit FHIRHelpers conversion to a value whose FHIR type is known only at run
    time (lists element-wise); values without a conversion are returned unchanged."""
    if isinstance(value, list):
        return [to_system(v) for v in value]
    if not isinstance(value, FhirNode):
        return value
    memo = value._memo
    if memo is None:
        memo = value._memo = {}
    elif _CONVERTED in memo:  # converted once per node: the results are immutable values
        return memo[_CONVERTED]
    t = value.type_name
    if t in QUANTITY_TYPES:
        converted: Any = to_quantity(value)
    elif t == "Coding":
        converted = to_code(value)
    elif t == "CodeableConcept":
        converted = to_concept(value)
    elif t in ("Period", "Range"):
        converted = to_interval(value)
    elif t == "Ratio":
        converted = to_ratio(value)
    else:
        converted = value
    memo[_CONVERTED] = converted
    return converted


_CONVERTED = "\x00system"  # memo key of a node's System value (no element name starts with NUL)


_SYSTEM_CLASS_NAMES = {
    "Date": "System.Date",
    "DateTime": "System.DateTime",
    "Time": "System.Time",
    "Quantity": "System.Quantity",
    "Ratio": "System.Ratio",
}


def runtime_system_type(value: Any) -> str | None:
    """The System type of a runtime value (None for null, FHIR nodes, lists, tuples)."""
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, int):
        from cds.cql.runtime.values import Long

        return "System.Long" if isinstance(value, Long) else "System.Integer"
    if isinstance(value, decimal.Decimal):
        return "System.Decimal"
    if isinstance(value, str):
        return "System.String"
    if isinstance(value, Code):
        return "System.Code"
    if isinstance(value, Concept):
        return "System.Concept"
    return _SYSTEM_CLASS_NAMES.get(type(value).__name__)


def value_is(value: Any, type_name: str) -> bool:
    """CQL ``is`` for a FHIR type on a runtime value: a FhirNode by its type hierarchy; a System
    value (a FHIR primitive already read) when the FHIR primitive's System type is its type
    (``true is FHIR.boolean``; a String is any string-valued primitive: string, code, uri...)."""
    if value is None:
        return False
    want = type_name.removeprefix("FHIR.")
    if isinstance(value, FhirNode):
        return fhir_model.is_subtype(value.type_name, want)
    system = runtime_system_type(value)
    if system is None:
        return False
    if want.startswith("System."):
        return system == want or want == "System.Any"
    return fhir_model.system_type_of(want) == system
