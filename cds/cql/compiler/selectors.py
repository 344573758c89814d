"""Literals and selectors → closures (CQL 1.5 §3 literals; List, Interval, Tuple, instance,
Code and Concept selectors). A part of :class:`~cds.cql.compiler.expressions.ExpressionCompiler`,
which dispatches ``_<NodeType>`` methods to it."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mypy_extensions import trait

from cds.cql.compiler.values import system
from cds.cql.errors import CqlCompileError, CqlRuntimeError
from cds.cql.model import system_types
from cds.cql.runtime import temporal
from cds.cql.runtime.clinical import Code, CodeSystemRef, Concept, ValueSetRef
from cds.cql.runtime.fhir import FhirNode
from cds.cql.runtime.interval import Interval
from cds.cql.runtime.quantity import Quantity, Ratio
from cds.cql.runtime.values import (
    DECIMAL_SCALE,
    MAX_DECIMAL,
    MAX_INTEGER,
    MAX_LONG,
    MIN_DECIMAL,
    MIN_INTEGER,
    MIN_LONG,
    Long,
    Tuple,
)
from cds.cql.syntax import ast

if TYPE_CHECKING:
    from cds.cql.compiler.expressions import Fn
    from cds.cql.compiler.library import LibraryCompiler
    from cds.cql.compiler.scope import Scope


@trait  # a part of ExpressionCompiler (mypyc compiles multiple inheritance from traits)
class SelectorCompiler:
    lib: LibraryCompiler

    def compile(self, node: ast.Expr, scope: Scope) -> Fn:
        raise NotImplementedError

    def error(self, node: ast.Node, message: str, unsupported: bool = False) -> CqlCompileError:
        raise NotImplementedError

    def operator(self, node: ast.Node, name: str) -> Any:
        raise NotImplementedError

    def converter(self, node: ast.Node, operand: ast.Node | None, what: str) -> Callable[[Any], Any] | None:
        raise NotImplementedError

    def _Literal(self, node: ast.Literal, scope: Scope) -> Fn:
        kind, raw = node.kind, node.value
        value: Any
        if kind == "null":
            value = None
        elif kind == "boolean" or kind == "string":
            value = raw
        elif kind == "integer":
            value = int(str(raw))
            if not MIN_INTEGER <= value <= MAX_INTEGER:
                raise self.error(node, f"integer literal {raw} is out of range")
        elif kind == "long":
            value = Long(int(str(raw)))
            if not MIN_LONG <= value <= MAX_LONG:
                raise self.error(node, f"long literal {raw}L is out of range")
        elif kind == "decimal":
            value = decimal.Decimal(str(raw))
            # CQL Decimal: 8 digits of scale, magnitude below 10^20 (Appendix B, Decimal)
            exponent = value.as_tuple().exponent
            if isinstance(exponent, int) and exponent < -DECIMAL_SCALE:
                raise self.error(node, f"decimal literal {raw} has more than {DECIMAL_SCALE} decimal places")
            if not MIN_DECIMAL <= value <= MAX_DECIMAL:
                raise self.error(node, f"decimal literal {raw} is out of range")
        elif kind == "date":
            value = temporal.parse_date(str(raw))
            if value is None:
                raise self.error(node, f"invalid date literal @{raw}")
        elif kind == "time":
            value = temporal.parse_time(str(raw).removeprefix("T"))
            if value is None:
                raise self.error(node, f"invalid time literal @{raw}")
        elif kind == "datetime":
            text = str(raw).removesuffix("T")
            if temporal.parse_datetime(text) is None:
                raise self.error(node, f"invalid datetime literal @{raw}")
            has_offset = text.endswith("Z") or (len(text) > 10 and ("+" in text[10:] or "-" in text[10:]))
            if not has_offset:
                # An offset-less literal takes the evaluation request's offset.
                return lambda ctx, env: _datetime_in(text, ctx)
            value = temporal.parse_datetime(text)
        else:
            raise self.error(node, f"unknown literal kind {kind}")
        return lambda ctx, env: value

    def _QuantityLit(self, node: ast.QuantityLit, scope: Scope) -> Fn:
        value = Quantity(decimal.Decimal(node.value), node.unit)
        return lambda ctx, env: value

    def _RatioLit(self, node: ast.RatioLit, scope: Scope) -> Fn:
        value = Ratio(
            Quantity(decimal.Decimal(node.numerator.value), node.numerator.unit),
            Quantity(decimal.Decimal(node.denominator.value), node.denominator.unit),
        )
        return lambda ctx, env: value

    def _ListSelector(self, node: ast.ListSelector, scope: Scope) -> Fn:
        items = [self.compile(i, scope) for i in node.items]
        return lambda ctx, env: [f(ctx, env) for f in items]

    def _IntervalSelector(self, node: ast.IntervalSelector, scope: Scope) -> Fn:
        low, high = self.compile(node.low, scope), self.compile(node.high, scope)
        lc, hc = node.low_closed, node.high_closed
        make = self.operator(node, "IntervalSelector")
        cl = self.converter(node, node.low, "interval low")
        ch = self.converter(node, node.high, "interval high")
        if cl is None and ch is None:
            return lambda ctx, env: make(low(ctx, env), high(ctx, env), lc, hc)
        convert_low, convert_high = cl or _same, ch or _same
        return lambda ctx, env: make(convert_low(low(ctx, env)), convert_high(high(ctx, env)), lc, hc)

    def _TupleSelector(self, node: ast.TupleSelector, scope: Scope) -> Fn:
        elements = [(name, self.compile(e, scope)) for name, e in node.elements]
        return lambda ctx, env: Tuple((name, f(ctx, env)) for name, f in elements)

    def _InstanceSelector(self, node: ast.InstanceSelector, scope: Scope) -> Fn:
        elements = [(name, self.compile(e, scope)) for name, e in node.elements]
        type_name = node.type_spec.name
        namespace = node.type_spec.namespace
        if namespace in (None, "System") and type_name in ("Code", "Concept", "Quantity", "Ratio", "Tuple"):
            return self._system_instance(node, type_name, elements)
        if namespace in (None, "System") and type_name in ("ValueSet", "CodeSystem"):
            return self._vocabulary_instance(node, type_name, elements)
        if namespace in (None, "FHIR") and type_name in system_types.FHIR_PRIMITIVE_TO_SYSTEM:
            return self._primitive_instance(node, type_name, elements)
        if namespace in (None, "FHIR") and self.lib.is_fhir_type(type_name):
            return lambda ctx, env: FhirNode(type_name, {n: _to_json(f(ctx, env)) for n, f in elements})
        raise self.error(node, f"instance selector for {type_name} is not supported", unsupported=True)

    def _primitive_instance(self, node: ast.Node, type_name: str, elements: list[tuple[str, Fn]]) -> Fn:
        """``string { value: x }``: the engine reads FHIR primitives as their System values, so
        the instance is its ``value`` (as read from JSON). ``id`` and ``extension`` are refused."""
        others = [n for n, _ in elements if n != "value"]
        if others:
            raise self.error(
                node,
                f"instance of the FHIR primitive {type_name} with {others[0]!r} is not supported",
                unsupported=True,
            )
        if not elements:
            return lambda ctx, env: None
        value = elements[0][1]
        return lambda ctx, env: system(value(ctx, env))

    def _system_instance(self, node: ast.Node, type_name: str, elements: list[tuple[str, Fn]]) -> Fn:
        def values(ctx: Any, env: dict[str, Any]) -> dict[str, Any]:
            return {n: system(f(ctx, env)) for n, f in elements}

        if type_name == "Code":
            return lambda ctx, env: Code(**_only(values(ctx, env), ("code", "system", "version", "display")))
        if type_name == "Concept":

            def concept(ctx: Any, env: dict[str, Any]) -> Any:
                v = values(ctx, env)
                codes = v.get("codes") or []
                return Concept(tuple(codes if isinstance(codes, list) else [codes]), v.get("display"))

            return concept
        if type_name == "Quantity":

            def quantity(ctx: Any, env: dict[str, Any]) -> Any:
                v = values(ctx, env)
                return None if v.get("value") is None else Quantity(v["value"], v.get("unit") or "1")

            return quantity
        if type_name == "Ratio":
            return lambda ctx, env: Ratio(
                values(ctx, env).get("numerator"), values(ctx, env).get("denominator")
            )
        return lambda ctx, env: Tuple(values(ctx, env))

    def _vocabulary_instance(self, node: ast.Node, type_name: str, elements: list[tuple[str, Fn]]) -> Fn:
        """``ValueSet { id: ..., version: ... }`` / ``CodeSystem { ... }``: a reference (the
        ``name`` element, display only, is not kept: refused rather than dropped)."""
        allowed = ("id", "version", "codesystems") if type_name == "ValueSet" else ("id", "version")
        for name, _ in elements:
            if name not in allowed:
                raise self.error(node, f"{type_name} instance element {name!r} is not supported", unsupported=True)
        fns = dict(elements)
        id_fn, version_fn, systems_fn = fns.get("id"), fns.get("version"), fns.get("codesystems")

        def make(ctx: Any, env: dict[str, Any]) -> Any:
            ref_id = None if id_fn is None else system(id_fn(ctx, env))
            if not isinstance(ref_id, str):
                raise CqlRuntimeError(f"a {type_name} needs an id (a String)")
            version = None if version_fn is None else system(version_fn(ctx, env))
            if type_name == "CodeSystem":
                return CodeSystemRef(ref_id, version)
            systems = [] if systems_fn is None else systems_fn(ctx, env) or []
            return ValueSetRef(ref_id, version, tuple(systems))

        return make

    def _CodeSelector(self, node: ast.CodeSelector, scope: Scope) -> Fn:
        system_fn = self.compile(node.system, scope)
        code, display = node.code, node.display

        def make(ctx: Any, env: dict[str, Any]) -> Code:
            cs = system_fn(ctx, env)
            if not isinstance(cs, CodeSystemRef):
                raise CqlRuntimeError("a code selector needs a code system")
            return Code(code, cs.id, cs.version, display)

        return make

    def _ConceptSelector(self, node: ast.ConceptSelector, scope: Scope) -> Fn:
        codes = [self._CodeSelector(c, scope) for c in node.codes]
        display = node.display
        return lambda ctx, env: Concept(tuple(c(ctx, env) for c in codes), display)


def _datetime_in(text: str, ctx: Any) -> Any:
    offset = getattr(ctx.now, "offset", None)
    value = temporal.parse_datetime(text)
    if value is None or offset is None or len(value.parts) < 4:
        return value
    return temporal.DateTime(value.parts, offset)


def _only(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in names}


def _to_json(value: Any) -> Any:
    if isinstance(value, FhirNode):
        return value.data
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, decimal.Decimal | int | str | bool) or value is None:
        return value
    if isinstance(value, Interval | Quantity | Code | Concept | ValueSetRef):
        return value
    if hasattr(value, "cql_to_string"):
        return value.cql_to_string()
    return value


def _same(value: Any) -> Any:
    return value
