"""Overload resolution (CQL 1.5 §"Type Resolution": function resolution and generic operators).

Given the candidate signatures of an operator or function and the static types of its
arguments, :func:`resolve` picks the signature whose arguments need the cheapest conversions
(the sum of :mod:`conversions` scores); a generic signature's type variable ``T`` is
instantiated from the argument types and the types they implicitly convert to. No applicable
signature: None (the caller reports the type error with its position).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cds.cql.types.conversions import Conversion, conversion_targets, convert
from cds.cql.types.signatures import Signature, T
from cds.cql.types.specifiers import (
    ANY,
    NULL,
    ChoiceType,
    CqlType,
    IntervalType,
    ListType,
    NamedType,
    TupleType,
)


@dataclass(frozen=True, slots=True)
class Resolution:
    index: int  # which candidate
    operands: tuple[CqlType, ...]  # the instantiated operand types
    result: CqlType
    conversions: tuple[Conversion, ...]
    score: int


def _bindings(
    param: CqlType, arg: CqlType, out: list[CqlType], promotion: bool = False, demotion: bool = False
) -> None:
    if param == T:
        if arg not in (NULL, ANY):
            for candidate in (arg, *conversion_targets(arg)):
                if candidate not in out:
                    out.append(candidate)
        if demotion and isinstance(arg, ListType):  # the element a list demotes to
            _bindings(param, arg.element, out)
    elif isinstance(param, ListType) and isinstance(arg, ListType):
        _bindings(param.element, arg.element, out, promotion, demotion)
    elif isinstance(param, ListType) and promotion and arg not in (NULL, ANY):
        _bindings(param.element, arg, out)  # the list a single value promotes to
    elif isinstance(param, IntervalType) and isinstance(arg, IntervalType):
        _bindings(param.point, arg.point, out)
    elif isinstance(param, IntervalType):
        # A type that converts to an interval (FHIR.Period → Interval<System.DateTime>)
        # instantiates T from the interval it converts to.
        for target in conversion_targets(arg):
            if isinstance(target, IntervalType):
                _bindings(param.point, target.point, out)


def substitute(t: CqlType, binding: CqlType) -> CqlType:
    if t == T:
        return binding
    if isinstance(t, ListType):
        return ListType(substitute(t.element, binding))
    if isinstance(t, IntervalType):
        return IntervalType(substitute(t.point, binding))
    if isinstance(t, TupleType):
        return TupleType(tuple((k, substitute(v, binding)) for k, v in t.elements))
    if isinstance(t, ChoiceType):
        return ChoiceType(tuple(substitute(c, binding) for c in t.choices))
    return t


def _generic(t: CqlType) -> bool:
    if t == T:
        return True
    if isinstance(t, ListType):
        return _generic(t.element)
    if isinstance(t, IntervalType):
        return _generic(t.point)
    return False


def _score(
    operands: Sequence[CqlType], args: Sequence[CqlType], promotion: bool, demotion: bool
) -> tuple[int, tuple[Conversion, ...]] | None:
    found = []
    for param, arg in zip(operands, args, strict=True):
        conversion = convert(arg, param, promotion, demotion)
        if conversion is None:
            return None
        found.append(conversion)
    return sum(c.score for c in found), tuple(found)


def _uses_list_conversion(conversion: Conversion | None) -> bool:
    while conversion is not None:
        if conversion.kind in ("promote", "demote"):
            return True
        conversion = conversion.inner
    return False


def resolve(
    candidates: Sequence[Signature],
    args: Sequence[CqlType],
    *,
    promotion: bool = False,
    demotion: bool = False,
) -> Resolution | None:
    """The best signature for ``args`` among ``candidates`` (first wins a tie), or None.
    ``promotion``/``demotion``: list promotion and demotion allowed (the reference translator's
    options). A generic signature that needs one of them is instantiated, as the reference
    translator does, only from the first argument that binds its type variable (so
    ``Coalesce('a', {'b'})`` needs demotion: promotion does not rebind ``T`` to a list)."""
    return _resolve(tuple(candidates), tuple(args), promotion, demotion)


@lru_cache(maxsize=4096)
def _resolve(
    candidates: tuple[Signature, ...], args: tuple[CqlType, ...], promotion: bool, demotion: bool
) -> Resolution | None:
    best: Resolution | None = None
    for index, signature in enumerate(candidates):
        operands = list(signature.operands)
        if signature.variadic and len(args) >= len(operands):
            operands += [operands[-1]] * (len(args) - len(operands))
        if len(operands) != len(args):
            continue
        bindings: list[CqlType] = []
        first: list[CqlType] = []  # the bindings of the first argument that binds T
        if any(_generic(p) for p in operands):
            for param, arg in zip(operands, args, strict=True):
                _bindings(param, arg, bindings, promotion, demotion)
                if not first:
                    _bindings(param, arg, first, promotion, demotion)
            if not bindings:
                bindings = [ANY]
        else:
            bindings = [NamedType("T.none")]
        for binding in bindings:
            instantiated = tuple(substitute(p, binding) for p in operands)
            scored = _score(instantiated, args, promotion, demotion)
            if scored is None:
                continue
            score, conversions = scored
            if first and binding not in first and any(_uses_list_conversion(c) for c in conversions):
                continue
            if best is None or score < best.score:
                result = substitute(signature.result, binding)
                best = Resolution(index, instantiated, result, conversions, score)
    return best
