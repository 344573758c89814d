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


def _bindings(param: CqlType, arg: CqlType, out: list[CqlType]) -> None:
    if param == T:
        if arg not in (NULL, ANY):
            for candidate in (arg, *conversion_targets(arg)):
                if candidate not in out:
                    out.append(candidate)
    elif isinstance(param, ListType) and isinstance(arg, ListType):
        _bindings(param.element, arg.element, out)
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


def _score(operands: Sequence[CqlType], args: Sequence[CqlType]) -> tuple[int, tuple[Conversion, ...]] | None:
    found = []
    for param, arg in zip(operands, args, strict=True):
        conversion = convert(arg, param)
        if conversion is None:
            return None
        found.append(conversion)
    return sum(c.score for c in found), tuple(found)


def resolve(candidates: Sequence[Signature], args: Sequence[CqlType]) -> Resolution | None:
    """The best signature for ``args`` among ``candidates`` (first wins a tie), or None."""
    return _resolve(tuple(candidates), tuple(args))


@lru_cache(maxsize=4096)
def _resolve(candidates: tuple[Signature, ...], args: tuple[CqlType, ...]) -> Resolution | None:
    best: Resolution | None = None
    for index, signature in enumerate(candidates):
        operands = list(signature.operands)
        if signature.variadic and len(args) >= len(operands):
            operands += [operands[-1]] * (len(args) - len(operands))
        if len(operands) != len(args):
            continue
        bindings: list[CqlType] = []
        if any(_generic(p) for p in operands):
            for param, arg in zip(operands, args, strict=True):
                _bindings(param, arg, bindings)
            if not bindings:
                bindings = [ANY]
        else:
            bindings = [NamedType("T.none")]
        for binding in bindings:
            instantiated = tuple(substitute(p, binding) for p in operands)
            scored = _score(instantiated, args)
            if scored is None:
                continue
            score, conversions = scored
            if best is None or score < best.score:
                result = substitute(signature.result, binding)
                best = Resolution(index, instantiated, result, conversions, score)
    return best
