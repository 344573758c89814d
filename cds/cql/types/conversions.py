"""Subtyping and implicit conversion (CQL 1.5 §"Type Resolution": conversion precedence).

:func:`convert` answers how a value of one type is used where another is expected, with the
spec's precedence as a score (lower is better): exact match 0, subtype 1, compatible (``null``)
2, cast (a choice to one of its types) 3, implicit conversion to a simple type 4, to a class
type 5. Implicit conversions are the System ones (Integer → Long → Decimal, Integer/Decimal →
Quantity, Date → DateTime, Code → Concept) and the model info's (``FHIR.dateTime`` →
``System.DateTime`` by ``FHIRHelpers.ToDateTime``); one conversion per use, element-wise for
lists. List promotion (a single value where a list is expected: ``ToList``, score 9) and list
demotion (a list where a single value is expected: ``SingletonFrom``, score 7) are the reference
translator's options, off by default as there; ``convert(..., promotion=True, demotion=True)``
turns them on. Interval promotion/demotion stay off.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cds.cql.types import model_info
from cds.cql.types.specifiers import (
    ANY,
    CODE,
    CONCEPT,
    DATE,
    DATETIME,
    DECIMAL,
    INTEGER,
    LONG,
    NULL,
    QUANTITY,
    ChoiceType,
    CqlType,
    IntervalType,
    ListType,
    NamedType,
    TupleType,
)

EXACT, SUBTYPE, COMPATIBLE, CAST, SIMPLE_CONVERSION, CLASS_CONVERSION = 0, 1, 2, 3, 4, 5
LIST_DEMOTION, LIST_PROMOTION = 7, 9  # after the implicit conversions (CQL 1.5 precedence)

#: System implicit conversions: (from, to) → the ELM conversion operator.
SYSTEM_CONVERSIONS: dict[tuple[NamedType, NamedType], str] = {
    (INTEGER, LONG): "ToLong",
    (INTEGER, DECIMAL): "ToDecimal",
    (LONG, DECIMAL): "ToDecimal",
    (INTEGER, QUANTITY): "ToQuantity",
    (DECIMAL, QUANTITY): "ToQuantity",
    (DATE, DATETIME): "ToDateTime",
    (CODE, CONCEPT): "ToConcept",
}
_CLASS_TYPES = frozenset({QUANTITY, CONCEPT})


@dataclass(frozen=True, slots=True)
class Conversion:
    """How to turn a value of ``source`` into ``target``: ``kind`` is ``"none"`` (usable as
    is), ``"null"`` (``As`` the target), ``"cast"`` (``As`` the target), ``"operator"`` (the
    System operator ``name``), ``"function"`` (``FHIRHelpers.name`` with operand type
    ``declared``), ``"list"`` (each element by ``inner``), ``"promote"`` (``inner``, then
    ``ToList``) or ``"demote"`` (``SingletonFrom``, then ``inner``)."""

    kind: str
    score: int
    source: CqlType
    target: CqlType
    name: str = ""
    declared: CqlType | None = None
    inner: Conversion | None = None


@lru_cache(maxsize=8192)
def is_subtype(sub: CqlType, sup: CqlType) -> bool:
    """Whether every value of ``sub`` is a value of ``sup``."""
    if sub == sup or sup == ANY:
        return True
    if isinstance(sub, ChoiceType):
        return all(is_subtype(c, sup) for c in sub.choices)
    if isinstance(sup, ChoiceType):
        return any(is_subtype(sub, c) for c in sup.choices)
    if isinstance(sub, NamedType) and isinstance(sup, NamedType):
        return sub != NULL and sup in model_info.ancestors(sub)
    if isinstance(sub, ListType) and isinstance(sup, ListType):
        return is_subtype(sub.element, sup.element)
    if isinstance(sub, IntervalType) and isinstance(sup, IntervalType):
        return is_subtype(sub.point, sup.point)
    if isinstance(sub, TupleType) and isinstance(sup, TupleType):
        if [k for k, _ in sub.elements] != [k for k, _ in sup.elements]:
            return False
        return all(is_subtype(a, b) for (_, a), (_, b) in zip(sub.elements, sup.elements, strict=True))
    return False


def _implicit(source: NamedType, target: CqlType) -> Conversion | None:
    if isinstance(target, NamedType):
        op = SYSTEM_CONVERSIONS.get((source, target))
        if op is not None:
            score = CLASS_CONVERSION if target in _CLASS_TYPES else SIMPLE_CONVERSION
            return Conversion("operator", score, source, target, name=op)
    for declared, to, function in model_info.conversions_from(source):
        if to == target:
            score = CLASS_CONVERSION if to in _CLASS_TYPES else SIMPLE_CONVERSION
            return Conversion("function", score, source, target, name=function, declared=declared)
    return None


@lru_cache(maxsize=8192)
def convert(
    source: CqlType, target: CqlType, promotion: bool = False, demotion: bool = False
) -> Conversion | None:
    """The best way to use a ``source`` value as a ``target`` one, or None. ``promotion`` and
    ``demotion`` allow list promotion and demotion (the reference translator's options)."""
    found = _convert(source, target, promotion, demotion)
    if found is not None:
        return found
    if demotion and isinstance(source, ListType) and not isinstance(target, ListType):
        inner = convert(source.element, target)
        if inner is not None:
            return Conversion("demote", LIST_DEMOTION + inner.score, source, target, inner=inner)
    if promotion and isinstance(target, ListType) and not isinstance(source, ListType) and source != NULL:
        inner = convert(source, target.element)
        if inner is not None:
            return Conversion("promote", LIST_PROMOTION + inner.score, source, target, inner=inner)
    return None


def _convert(source: CqlType, target: CqlType, promotion: bool, demotion: bool) -> Conversion | None:
    if source == target:
        return Conversion("none", EXACT, source, target)
    if source in (NULL, ANY):
        return Conversion("null", COMPATIBLE, source, target)
    if is_subtype(source, target):
        return Conversion("none", SUBTYPE, source, target)
    if isinstance(source, ChoiceType):
        if any(is_subtype(c, target) for c in source.choices):
            return Conversion("cast", CAST, source, target)
        return None
    if isinstance(source, NamedType):
        return _implicit(source, target)
    if isinstance(source, IntervalType) and isinstance(target, IntervalType):
        inner = convert(source.point, target.point)
        if inner is None or inner.kind not in ("none", "null"):
            return None
        return Conversion("interval", COMPATIBLE, source, target, inner=inner)
    if isinstance(source, TupleType) and isinstance(target, TupleType):
        if [k for k, _ in source.elements] != [k for k, _ in target.elements]:
            return None
        for (_, a), (_, b) in zip(source.elements, target.elements, strict=True):
            inner = convert(a, b)
            if inner is None or inner.kind not in ("none", "null"):
                return None
        return Conversion("none", COMPATIBLE, source, target)
    if isinstance(source, ListType) and isinstance(target, ListType):
        inner = convert(source.element, target.element)  # no promotion of elements (but Flatten's)
        if inner is None or inner.kind in ("cast", "none"):
            return None
        return Conversion("list", inner.score, source, target, inner=inner)
    return None


def conversion_targets(source: CqlType) -> list[CqlType]:
    """Types ``source`` converts to implicitly (used to instantiate generic signatures)."""
    if isinstance(source, NamedType):
        out: list[CqlType] = [t for (f, t) in SYSTEM_CONVERSIONS if f == source]
        out.extend(to for _, to, _ in model_info.conversions_from(source))
        return out
    if isinstance(source, ListType):
        return [ListType(t) for t in conversion_targets(source.element)]
    return []


def common_type(first: CqlType, second: CqlType) -> CqlType:
    """The type of a conditional whose branches are ``first`` and ``second`` (as the reference
    translator's compatibility rule): the supertype, else the conversion target, else a choice."""
    if first == second or second == NULL or is_subtype(second, first):
        return first
    if first == NULL or is_subtype(first, second):
        return second
    if convert(second, first) is not None:
        return first
    if convert(first, second) is not None:
        return second
    if isinstance(first, ListType) and isinstance(second, ListType):
        return ListType(common_type(first.element, second.element))
    choices = [*(first.choices if isinstance(first, ChoiceType) else (first,))]
    for c in second.choices if isinstance(second, ChoiceType) else (second,):
        if c not in choices:
            choices.append(c)
    return ChoiceType(tuple(choices))
