"""What a compiled library is at run time: its defines (each evaluated at most once per
evaluation, through the context's cache, under the context's deadline), its functions (with
overload dispatch on the runtime types of the arguments), and references to both."""

from __future__ import annotations

from time import monotonic
from typing import Any

from cds.cql.compiler.context import EvaluationContext
from cds.cql.compiler.expressions import Fn
from cds.cql.compiler.values import is_type, system
from cds.cql.errors import CqlCompileError, CqlRuntimeError
from cds.cql.runtime.clinical import Code, CodeSystemRef, Concept, ValueSetRef
from cds.cql.syntax import ast, declarations


class CompiledDef:
    __slots__ = ("name", "node", "fn", "access", "key")

    def __init__(self, name: str, node: declarations.ExpressionDef) -> None:
        self.name = name
        self.node = node
        self.fn: Fn | None = None
        self.access = node.access
        self.key = id(self)

    def value(self, ctx: EvaluationContext) -> Any:
        cache = ctx.cache
        key = self.key
        if key in cache:
            return cache[key]
        if key in ctx.in_progress:
            raise CqlRuntimeError(f"definition {self.name!r} refers to itself")
        if ctx.deadline is not None and monotonic() > ctx.deadline:
            ctx.out_of_time()
        ctx.in_progress.add(key)
        try:
            assert self.fn is not None
            result = self.fn(ctx, {})
        finally:
            ctx.in_progress.discard(key)
        cache[key] = result
        return result


class CompiledFunction:
    __slots__ = ("name", "node", "operand_names", "operand_types", "fn", "fluent")

    def __init__(self, node: declarations.FunctionDef, operand_types: list[Any]) -> None:
        self.name = node.name
        self.node = node
        self.operand_names = [o.name for o in node.operands]
        self.operand_types = operand_types
        self.fn: Fn | None = None
        self.fluent = node.fluent

    def matches(self, values: list[Any]) -> bool:
        return all(
            v is None or is_type(v, t) or (_is_system_spec(t) and _converts_to(v, t))
            for v, t in zip(values, self.operand_types, strict=True)
        )


def _is_system_spec(spec: Any) -> bool:
    return bool(spec[0] != "named" or spec[1] != "FHIR")


def _converts_to(value: Any, spec: Any) -> bool:
    """Whether a FHIR value's System form (FHIRHelpers conversion) is of ``spec``; a value that
    cannot be converted (a Quantity with a comparator) does not match."""
    try:
        return is_type(system(value), spec)
    except CqlRuntimeError:
        return False


class CompiledLibrary:
    def __init__(self, name: str | None, version: str | None) -> None:
        self.name = name
        self.version = version
        self.defs: dict[str, CompiledDef] = {}
        self.functions: dict[str, list[CompiledFunction]] = {}
        self.parameters: dict[str, tuple[Fn | None, Any]] = {}
        self.valuesets: dict[str, ValueSetRef] = {}
        self.codesystems: dict[str, CodeSystemRef] = {}
        self.codes: dict[str, Code] = {}
        self.concepts: dict[str, Concept] = {}
        self.includes: dict[str, Any] = {}
        #: Where a decision (conversion, overload, property) is left to run time: one line each,
        #: ``Library:line:column: what`` (see :mod:`cds.cql.compiler.static`).
        self.dispatch_sites: list[str] = []
        #: Whether the compiler had the typed walk's static types (False: the library has
        #: constructs the walk does not cover; every decision above is then made at run time).
        self.typed = False

    def expression_names(self) -> list[str]:
        return [n for n, d in self.defs.items() if d.access == "public"]

    def evaluate(self, name: str, ctx: Any) -> Any:
        return self.defs[name].value(ctx)

    # Used by libraries that include this one.
    def definition_fn(self, name: str) -> Fn | None:
        d = self.defs.get(name)
        if d is None or d.access != "public":
            return None
        return lambda ctx, env: d.value(ctx)

    def function_fn(self, name: str, args: list[Fn], node: ast.Node, resolved: Any = None) -> Fn | None:
        """A call of function ``name`` from a library that includes this one; ``resolved`` is
        the overload the typed walk chose (its ``index`` among the functions of that name)."""
        declared = self.functions.get(name, [])
        overloads = [f for f in declared if len(f.operand_names) == len(args)]
        if overloads and all(f.node.body is None for f in overloads):
            raise CqlCompileError(f"function {self.name}.{name} is external: the engine cannot run it")
        if not overloads:
            return None
        if resolved is not None and 0 <= resolved.index < len(declared) and declared[resolved.index] in overloads:
            return call_user([declared[resolved.index]], args)
        return call_user(overloads, args)

    def overload_count(self, name: str, arity: int) -> int:
        return sum(1 for f in self.functions.get(name, []) if len(f.operand_names) == arity)


def define_ref(d: CompiledDef) -> Fn:
    """A reference to a define: its cached value without a call once evaluated."""
    key, value = d.key, d.value

    def ref(ctx: EvaluationContext, env: dict[str, Any]) -> Any:  # typed: native field access
        cache = ctx.cache
        if key in cache:
            return cache[key]
        return value(ctx)

    return ref


def call_user(overloads: list[CompiledFunction], args: list[Fn]) -> Fn:
    if len(overloads) == 1:
        fn = overloads[0]
        names = fn.operand_names

        if len(args) == 1:
            (name,), (arg,) = names, args

            def call1(ctx: Any, env: dict[str, Any]) -> Any:
                return fn.fn(ctx, {name: arg(ctx, env)})  # type: ignore[misc]

            return call1
        if len(args) == 2:
            (name1, name2), (arg1, arg2) = names, args

            def call2(ctx: Any, env: dict[str, Any]) -> Any:
                return fn.fn(ctx, {name1: arg1(ctx, env), name2: arg2(ctx, env)})  # type: ignore[misc]

            return call2

        def call(ctx: Any, env: dict[str, Any]) -> Any:
            frame = {n: a(ctx, env) for n, a in zip(names, args, strict=True)}
            assert fn.fn is not None
            return fn.fn(ctx, frame)

        return call

    def dispatch(ctx: Any, env: dict[str, Any]) -> Any:
        values = [a(ctx, env) for a in args]
        for candidate in overloads:
            if candidate.matches(values):
                assert candidate.fn is not None
                return candidate.fn(ctx, dict(zip(candidate.operand_names, values, strict=True)))
        raise CqlRuntimeError(f"no overload of {overloads[0].name} accepts these arguments")

    return dispatch
