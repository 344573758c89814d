"""Operator calls → closures: a System operator from the registry by ELM name, its arguments
put through the implicit FHIRHelpers conversion when they may be FHIR elements, its runtime errors
located at the call; the short-circuit logical operators; value-set and code-system membership.
A part of :class:`~cds.cql.compiler.expressions.ExpressionCompiler`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mypy_extensions import trait

from cds.cql.compiler.values import system
from cds.cql.errors import CqlCompileError, CqlRuntimeError, CqlUnsupportedError, SourceLocation
from cds.cql.operators import registry
from cds.cql.runtime.fhir import FhirNode
from cds.cql.syntax import ast

if TYPE_CHECKING:
    from cds.cql.compiler.expressions import Fn
    from cds.cql.compiler.library import LibraryCompiler

# Operators whose arguments are never FHIR elements to convert (lists of resources pass through).
NO_CONVERSION = frozenset(
    {
        "Exists",
        "First",
        "Last",
        "Flatten",
        "Distinct",
        "SingletonFrom",
        "Union",
        "Intersect",
        "Except",
        "Count",
        "IsNull",
        "Coalesce",
        "Skip",
        "Take",
        "Tail",
        "Slice",
        "IndexOf",
        "Indexer",
        "Length",
        "Descendents",
    }
)
_CONVERTIBLE = frozenset({FhirNode, list})  # the types system() may change


@trait  # a part of ExpressionCompiler (mypyc compiles multiple inheritance from traits)
class OperatorCalls:
    lib: LibraryCompiler

    def error(self, node: ast.Node, message: str, unsupported: bool = False) -> CqlCompileError:
        loc = SourceLocation(self.lib.name, node.line, node.column)
        return (CqlUnsupportedError if unsupported else CqlCompileError)(message, loc)

    def operator(self, node: ast.Node, name: str) -> Callable[..., Any]:
        fn = registry.lookup(name)
        if fn is None:
            raise self.error(node, f"operator {name} is not supported", unsupported=True)
        return fn

    def call_op(self, node: ast.Node, name: str, args: list[Fn], **kwargs: Any) -> Fn:
        fn = self.operator(node, name)
        if kwargs:  # bound once, so the per-call path passes positional arguments only
            fn = functools.partial(fn, **kwargs)
        line, column = node.line, node.column
        lib_name = self.lib.name
        convert = name not in NO_CONVERSION

        def located(exc: CqlRuntimeError) -> CqlRuntimeError:
            if exc.location is None:
                exc.location = SourceLocation(lib_name, line, column)
                exc.args = (f"{exc.location}: {exc.message}",)
            return exc

        # The implicit conversion applies only to FHIR nodes (or lists of them): a type check,
        # not a call, for every other argument. Operators that take no conversion check nothing.
        convertible = _CONVERTIBLE if convert else frozenset()
        if len(args) == 1:
            (a,) = args

            def run1(ctx: Any, env: dict[str, Any]) -> Any:
                x = a(ctx, env)
                if type(x) in convertible:
                    x = system(x)
                try:
                    return fn(x)
                except CqlRuntimeError as exc:
                    raise located(exc) from None

            return run1
        if len(args) == 2:
            a, b = args

            def run2(ctx: Any, env: dict[str, Any]) -> Any:
                x, y = a(ctx, env), b(ctx, env)
                if type(x) in convertible:
                    x = system(x)
                if type(y) in convertible:
                    y = system(y)
                try:
                    return fn(x, y)
                except CqlRuntimeError as exc:
                    raise located(exc) from None

            return run2

        def run(ctx: Any, env: dict[str, Any]) -> Any:
            values = [f(ctx, env) for f in args]
            if convert:
                values = [system(v) for v in values]
            try:
                return fn(*values)
            except CqlRuntimeError as exc:
                raise located(exc) from None

        return run

    def _logical(self, node: ast.Node, name: str, left: Fn, right: Fn) -> Fn:
        fn = self.operator(node, name)
        if name == "And":

            def and_(ctx: Any, env: dict[str, Any]) -> Any:
                a = left(ctx, env)
                if a is False:
                    return False
                return fn(a, right(ctx, env))

            return and_
        if name == "Or":

            def or_(ctx: Any, env: dict[str, Any]) -> Any:
                a = left(ctx, env)
                if a is True:
                    return True
                return fn(a, right(ctx, env))

            return or_
        return lambda ctx, env: fn(left(ctx, env), right(ctx, env))

    def membership(self, node: ast.Node, operand: Fn, ref: tuple[str, Fn]) -> Fn:
        kind, ref_fn = ref
        name = "InValueSet" if kind == "valueset" else "InCodeSystem"
        fn = self.operator(node, name)

        def run(ctx: Any, env: dict[str, Any]) -> Any:
            value = system(operand(ctx, env))
            if value is None:
                return False  # InValueSet/InCodeSystem of null is false (CQL 1.5 §9.11)
            return fn(value, ref_fn(ctx, env), terminology=ctx.terminology)

        return run
