"""Operator calls → closures: a System operator from the registry by ELM name, its arguments
put through the implicit FHIRHelpers conversion when they may be FHIR elements, its runtime errors
located at the call; the short-circuit logical operators; value-set and code-system membership.
A part of :class:`~cds.cql.compiler.expressions.ExpressionCompiler`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mypy_extensions import trait

from cds.cql.compiler.static import NONE, RUNTIME, TO_SYSTEM, conversion_plan, describe, operand_kind
from cds.cql.compiler.values import system
from cds.cql.errors import CqlCompileError, CqlRuntimeError, CqlUnsupportedError, SourceLocation
from cds.cql.operators import registry
from cds.cql.operators.specialised import specialised
from cds.cql.runtime.fhir import FhirNode, to_system
from cds.cql.syntax import ast
from cds.cql.types.specifiers import NamedType

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

    def call_op(
        self,
        node: ast.Node,
        name: str,
        args: list[Fn],
        *,
        operands: Sequence[ast.Node | NamedType | None] | None = None,
        **kwargs: Any,
    ) -> Fn:
        """System operator ``name`` on ``args``. ``operands`` are the argument expressions
        (None where an argument is no expression of the library): where the typed walk knows
        their types, the implicit conversions and a specialised implementation are chosen here."""
        fn = self.operator(node, name)
        types = (
            [o if isinstance(o, NamedType) else self.lib.static_type(o) for o in operands]
            if operands is not None
            else [None] * len(args)
        )
        assert len(types) == len(args), f"{name}: {len(args)} arguments, {len(types)} operand types"
        if not kwargs:
            fast = specialised(name, tuple(operand_kind(t) for t in types))
            if fast is not None:
                fn = fast
        else:  # bound once, so the per-call path passes positional arguments only
            fn = functools.partial(fn, **kwargs)
        line, column = node.line, node.column
        lib_name = self.lib.name
        plans = [NONE] * len(args)
        if name not in NO_CONVERSION:
            plans = [conversion_plan(t) for t in types]
            for i, plan in enumerate(plans):
                if plan == RUNTIME:
                    self.lib.dispatch_site(
                        node, f"{name}: conversion of argument {i + 1} ({describe(types[i])}) at run time"
                    )

        def located(exc: CqlRuntimeError) -> CqlRuntimeError:
            if exc.location is None:
                exc.location = SourceLocation(lib_name, line, column)
                exc.args = (f"{exc.location}: {exc.message}",)
            return exc

        if all(p == NONE for p in plans):  # every conversion decided: none
            return _plain_call(fn, args, located)
        if len(args) == 1:
            (a,) = args
            (pa,) = plans

            def run1(ctx: Any, env: dict[str, Any]) -> Any:
                x = a(ctx, env)
                if pa == TO_SYSTEM:
                    x = to_system(x)
                elif pa != NONE and type(x) in _CONVERTIBLE:
                    x = system(x)
                try:
                    return fn(x)
                except CqlRuntimeError as exc:
                    raise located(exc) from None

            return run1
        if len(args) == 2:
            a, b = args
            pa, pb = plans

            def run2(ctx: Any, env: dict[str, Any]) -> Any:
                x, y = a(ctx, env), b(ctx, env)
                if pa == TO_SYSTEM:
                    x = to_system(x)
                elif pa != NONE and type(x) in _CONVERTIBLE:
                    x = system(x)
                if pb == TO_SYSTEM:
                    y = to_system(y)
                elif pb != NONE and type(y) in _CONVERTIBLE:
                    y = system(y)
                try:
                    return fn(x, y)
                except CqlRuntimeError as exc:
                    raise located(exc) from None

            return run2

        def run(ctx: Any, env: dict[str, Any]) -> Any:
            values = [f(ctx, env) for f in args]
            values = [v if p == NONE else system(v) for v, p in zip(values, plans, strict=True)]
            try:
                return fn(*values)
            except CqlRuntimeError as exc:
                raise located(exc) from None

        return run

    def static_plan(self, node: ast.Node, operand: ast.Node, what: str) -> int:
        """How the value of ``operand`` is converted to its System value (compiler.static);
        a conversion left to run time is recorded as a dispatch site."""
        t = self.lib.static_type(operand)
        plan = conversion_plan(t)
        if plan == RUNTIME:
            self.lib.dispatch_site(node, f"{what}: conversion of {describe(t)} at run time")
        return plan

    def converter(self, node: ast.Node, operand: ast.Node | None, what: str) -> Callable[[Any], Any] | None:
        """The implicit conversion of ``operand``'s value as a function (None: none needed)."""
        plan = self.static_plan(node, operand, what) if operand is not None else RUNTIME
        if operand is None:
            self.lib.dispatch_site(node, f"{what}: conversion at run time")
        if plan == NONE:
            return None
        return to_system if plan == TO_SYSTEM else system

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

    def membership(
        self, node: ast.Node, operand: Fn, ref: tuple[str, Fn], operand_node: ast.Node | None = None
    ) -> Fn:
        kind, ref_fn = ref
        name = "InValueSet" if kind == "valueset" else "InCodeSystem"
        fn = self.operator(node, name)
        convert = self.converter(node, operand_node, name) or _same

        def run(ctx: Any, env: dict[str, Any]) -> Any:
            value = convert(operand(ctx, env))
            if value is None:
                return False  # InValueSet/InCodeSystem of null is false (CQL 1.5 §9.11)
            return fn(value, ref_fn(ctx, env), terminology=ctx.terminology)

        return run


def _plain_call(fn: Callable[..., Any], args: list[Fn], located: Callable[[CqlRuntimeError], CqlRuntimeError]) -> Fn:
    """An operator call whose arguments need no conversion."""
    if len(args) == 1:
        (a,) = args

        def run1(ctx: Any, env: dict[str, Any]) -> Any:
            try:
                return fn(a(ctx, env))
            except CqlRuntimeError as exc:
                raise located(exc) from None

        return run1
    if len(args) == 2:
        a, b = args

        def run2(ctx: Any, env: dict[str, Any]) -> Any:
            x, y = a(ctx, env), b(ctx, env)
            try:
                return fn(x, y)
            except CqlRuntimeError as exc:
                raise located(exc) from None

        return run2

    def run(ctx: Any, env: dict[str, Any]) -> Any:
        values = [f(ctx, env) for f in args]
        try:
            return fn(*values)
        except CqlRuntimeError as exc:
            raise located(exc) from None

    return run


def _same(value: Any) -> Any:
    return value
