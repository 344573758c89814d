"""Expressions → closures ``fn(ctx, env) -> value``.

Every identifier, function and operator is resolved here, at load time; what cannot be
resolved or is not supported raises :class:`~cds.cql.errors.CqlCompileError` /
:class:`~cds.cql.errors.CqlUnsupportedError` with its position. System operators come from the
operator registry by ELM name; arguments that may be FHIR elements go through the implicit
FHIRHelpers conversion first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cds.cql.compiler.calls import OperatorCalls
from cds.cql.compiler.scope import Scope
from cds.cql.compiler.selectors import SelectorCompiler
from cds.cql.compiler.static import A_SYSTEM_VALUE, RUNTIME, conversion_plan, describe
from cds.cql.compiler.timing import TimingCompiler
from cds.cql.compiler.values import choice_member, get_property, is_type, system
from cds.cql.errors import CqlCompileError, CqlRuntimeError
from cds.cql.runtime.clinical import Code, Concept
from cds.cql.runtime.fhir import FhirNode
from cds.cql.syntax import ast
from cds.cql.types.specifiers import ChoiceType, ListType

if TYPE_CHECKING:
    from cds.cql.compiler.library import LibraryCompiler

Fn = Callable[[Any, dict[str, Any]], Any]

BINARY_OPS = {
    "+": "Add",
    "-": "Subtract",
    "*": "Multiply",
    "/": "Divide",
    "div": "TruncatedDivide",
    "mod": "Modulo",
    "^": "Power",
    "=": "Equal",
    "!=": "NotEqual",
    "~": "Equivalent",
    "!~": "NotEquivalent",
    "<": "Less",
    "<=": "LessOrEqual",
    ">": "Greater",
    ">=": "GreaterOrEqual",
    "and": "And",
    "or": "Or",
    "xor": "Xor",
    "implies": "Implies",
    "in": "In",
    "contains": "Contains",
    "union": "Union",
    "intersect": "Intersect",
    "except": "Except",
}
UNARY_OPS = {
    "not": "Not",
    "exists": "Exists",
    "negate": "Negate",
    "distinct": "Distinct",
    "flatten": "Flatten",
    "collapse": "Collapse",
    "expand": "Expand",
    "singleton": "SingletonFrom",
    "point": "PointFrom",
    "start": "Start",
    "end": "End",
    "width": "Width",
    "size": "Size",
    "successor": "Successor",
    "predecessor": "Predecessor",
    "is null": "IsNull",
    "is true": "IsTrue",
    "is false": "IsFalse",
    "date": "DateFrom",
    "time": "TimeFrom",
    "timezoneoffset": "TimezoneOffsetFrom",
}
LOGICAL = frozenset({"And", "Or", "Xor", "Implies"})


class ExpressionCompiler(OperatorCalls, SelectorCompiler, TimingCompiler):
    def __init__(self, library: LibraryCompiler) -> None:
        self.lib = library

    # ------------------------------------------------------------------ dispatch
    def compile(self, node: ast.Expr, scope: Scope) -> Fn:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise self.error(node, f"{type(node).__name__} expressions are not supported", unsupported=True)
        result: Fn = method(node, scope)
        return result

    def _Identifier(self, node: ast.Identifier, scope: Scope) -> Fn:
        name = node.name
        if name in scope.locals:
            return lambda ctx, env: env[name]
        if scope.sort_row and name not in self.lib.names():
            return lambda ctx, env: get_property(env["$this"], name)
        if name == "$this" and "$this" in scope.locals:
            return lambda ctx, env: env["$this"]
        resolved = self.lib.resolve_name(name, node)
        if resolved is None:
            raise self.error(node, f"could not resolve identifier {name!r}")
        return resolved

    def _Member(self, node: ast.Member, scope: Scope) -> Fn:
        if isinstance(node.source, ast.Identifier) and node.source.name not in scope.locals:
            included = self.lib.included(node.source.name)
            if included is not None:
                definition: Fn | None = included.definition_fn(node.name)
                if definition is None:
                    raise self.error(node, f"{node.source.name} has no definition {node.name!r}")
                return definition
        source = self.compile(node.source, scope)
        name = node.name
        source_type = self.lib.static_type(node.source)
        element_type = source_type.element if isinstance(source_type, ListType) else source_type
        if isinstance(element_type, ChoiceType):
            return choice_member(source, name)
        if conversion_plan(source_type) == RUNTIME and not isinstance(source_type, ListType):
            self.lib.dispatch_site(node, f"property {name!r} of {describe(source_type)} read at run time")

        def member(ctx: Any, env: dict[str, Any]) -> Any:
            value = source(ctx, env)
            if type(value) is FhirNode:  # the common case, without get_property's dispatch
                memo = value._memo
                if memo is not None and name in memo:
                    return memo[name]
                return value.get(name)
            return get_property(value, name)

        return member

    def _Index(self, node: ast.Index, scope: Scope) -> Fn:
        return self.call_op(
            node,
            "Indexer",
            [self.compile(node.source, scope), self.compile(node.index, scope)],
            operands=[node.source, node.index],
        )

    def _Unary(self, node: ast.Unary, scope: Scope) -> Fn:
        op = node.op
        if op in ("minimum", "maximum"):
            assert node.type_spec is not None
            type_name = self.lib.type_name(node.type_spec)
            fn = self.operator(node, "MinValue" if op == "minimum" else "MaxValue")
            return lambda ctx, env: fn(type_name)
        assert node.operand is not None
        if (
            op == "negate"
            and isinstance(node.operand, ast.Literal)
            and node.operand.kind in ("integer", "long", "decimal")
        ):
            folded = ast.Literal(node.line, node.column, node.operand.kind, "-" + str(node.operand.value))
            return self._Literal(folded, scope)
        if op == "negate" and isinstance(node.operand, ast.QuantityLit):
            return self._QuantityLit(
                ast.QuantityLit(node.line, node.column, "-" + node.operand.value, node.operand.unit), scope
            )
        if op == "exists" and isinstance(node.operand, ast.Query):
            from cds.cql.compiler.queries import compile_exists_query

            return compile_exists_query(self, node.operand, scope)
        operand = self.compile(node.operand, scope)
        if op.startswith("is not "):
            inner = self.call_op(node, UNARY_OPS["is " + op[7:]], [operand], operands=[node.operand])
            return lambda ctx, env: not inner(ctx, env)
        if op.startswith("component:"):
            return self.call_op(
                node, "DateTimeComponentFrom", [operand], operands=[node.operand], precision=op.split(":")[1]
            )
        if op.startswith("duration:") or op.startswith("difference:"):
            kind, precision = op.split(":")
            start = self.call_op(node, "Start", [operand], operands=[node.operand])
            end = self.call_op(node, "End", [operand], operands=[node.operand])
            name = "DurationBetween" if kind == "duration" else "DifferenceBetween"
            results = [A_SYSTEM_VALUE, A_SYSTEM_VALUE]  # Start and End give System values
            return self.call_op(node, name, [start, end], operands=results, precision=precision)
        if op in ("collapse", "expand"):
            if op == "collapse" and node.per is not None:
                # collapse merges at the intervals' own precision; a per would change that
                raise self.error(node, "collapse ... per is not supported", unsupported=True)
            per = self.compile(node.per, scope) if node.per is not None else (lambda ctx, env: None)
            per_type = node.per if node.per is not None else A_SYSTEM_VALUE  # none: a null per
            return self.call_op(node, UNARY_OPS[op], [operand, per], operands=[node.operand, per_type])
        if op not in UNARY_OPS:
            raise self.error(node, f"operator {op!r} is not supported", unsupported=True)
        return self.call_op(node, UNARY_OPS[op], [operand], operands=[node.operand])

    def _Binary(self, node: ast.Binary, scope: Scope) -> Fn:
        op = node.op
        left = self.compile(node.left, scope)
        if op in ("in", "contains"):
            target = node.right if op == "in" else node.left
            terminology = self.lib.terminology_ref(target)
            if terminology is not None and op == "in":
                return self.membership(node, left, terminology, node.left)
        right = self.compile(node.right, scope)
        if op == "&":
            concat = self.operator(node, "Concatenate")
            cl = self.converter(node, node.left, "&") or _same
            cr = self.converter(node, node.right, "&") or _same
            return lambda ctx, env: concat(_str_or_empty(cl(left(ctx, env))), _str_or_empty(cr(right(ctx, env))))
        if op == "!~":
            equiv = self.call_op(node, "Equivalent", [left, right], operands=[node.left, node.right])
            return lambda ctx, env: not equiv(ctx, env)
        name = BINARY_OPS.get(op)
        if name is None:
            raise self.error(node, f"operator {op!r} is not supported", unsupported=True)
        if name in LOGICAL:
            return self._logical(node, name, left, right)
        operands = [node.left, node.right]
        if node.precision is not None:
            return self.call_op(node, name, [left, right], operands=operands, precision=node.precision)
        return self.call_op(node, name, [left, right], operands=operands)

    def _TypeOp(self, node: ast.TypeOp, scope: Scope) -> Fn:
        operand = self.compile(node.operand, scope)
        spec = self.lib.type_description(node.type_spec, node)
        if node.op == "is":
            return lambda ctx, env: is_type(operand(ctx, env), spec)
        strict = node.op == "cast"
        name = self.lib.type_name(node.type_spec)

        def as_(ctx: Any, env: dict[str, Any]) -> Any:
            value = operand(ctx, env)
            if value is None:
                return None
            if isinstance(value, list) and spec[0] != "list":
                if not value:
                    return None
            if is_type(value, spec):
                return value
            if spec[0] == "named" and spec[1] == "System" and is_type(system(value), spec):
                return system(value)  # a FHIR element as its System type (FHIRHelpers conversion)
            if strict:
                raise CqlRuntimeError(f"cannot cast a {type(value).__name__} as {name}")
            return None

        return as_

    def _Convert(self, node: ast.Convert, scope: Scope) -> Fn:
        operand = self.compile(node.operand, scope)
        if node.unit is not None:
            unit = node.unit
            return self.call_op(
                node, "ConvertQuantity", [operand, lambda ctx, env: unit], operands=[node.operand, A_SYSTEM_VALUE]
            )
        assert node.type_spec is not None
        spec = node.type_spec
        if isinstance(spec, ast.NamedType) and spec.namespace is None:
            target = spec.name  # convert targets System types (ToQuantity, ToDateTime, ...)
        else:
            target = self.lib.type_name(spec).removeprefix("System.")
        return self.call_op(node, f"To{target}", [operand], operands=[node.operand])

    def _Between(self, node: ast.Between, scope: Scope) -> Fn:
        operand = self.compile(node.operand, scope)
        low = self.compile(node.low, scope)
        high = self.compile(node.high, scope)
        lower = self.call_op(
            node, "Greater" if node.proper else "GreaterOrEqual", [operand, low], operands=[node.operand, node.low]
        )
        upper = self.call_op(
            node, "Less" if node.proper else "LessOrEqual", [operand, high], operands=[node.operand, node.high]
        )
        return self._logical(node, "And", lower, upper)

    def _DurationBetween(self, node: ast.DurationBetween, scope: Scope) -> Fn:
        name = "DurationBetween" if node.kind == "duration" else "DifferenceBetween"
        args = [self.compile(node.low, scope), self.compile(node.high, scope)]
        return self.call_op(node, name, args, operands=[node.low, node.high], precision=node.precision)

    def _If(self, node: ast.If, scope: Scope) -> Fn:
        cond, then, otherwise = (self.compile(n, scope) for n in (node.condition, node.then, node.otherwise))
        return lambda ctx, env: then(ctx, env) if cond(ctx, env) is True else otherwise(ctx, env)

    def _Case(self, node: ast.Case, scope: Scope) -> Fn:
        items = [(self.compile(w, scope), self.compile(t, scope)) for w, t in node.items]
        otherwise = self.compile(node.otherwise, scope)
        if node.comparand is None:

            def case(ctx: Any, env: dict[str, Any]) -> Any:
                for when, then in items:
                    if when(ctx, env) is True:
                        return then(ctx, env)
                return otherwise(ctx, env)

            return case
        comparand = self.compile(node.comparand, scope)
        equal = self.operator(node, "Equal")
        convert = self.converter(node, node.comparand, "case") or _same
        whens = [self.converter(node, w, "case") or _same for w, _ in node.items]
        items_converted = [(w, c, t) for (w, t), c in zip(items, whens, strict=True)]

        def case_of(ctx: Any, env: dict[str, Any]) -> Any:
            value = convert(comparand(ctx, env))
            for when, convert_when, then in items_converted:
                if equal(value, convert_when(when(ctx, env))) is True:
                    return then(ctx, env)
            return otherwise(ctx, env)

        return case_of

    # ------------------------------------------------------------------ selectors
    # ------------------------------------------------------------------ calls
    def _Call(self, node: ast.Call, scope: Scope) -> Fn:
        args = [self.compile(a, scope) for a in node.args]
        arg_nodes: list[ast.Node] = list(node.args)
        source = node.source
        # The overload the typed walk resolved (None: chosen at run time from the values).
        resolved = self.lib.static_call(node, node.name)
        if source is not None:
            if isinstance(source, ast.Identifier) and source.name not in scope.locals:
                included = self.lib.included(source.name)
                if included is not None:
                    try:
                        fn: Fn | None = included.function_fn(node.name, args, node, resolved)
                    except CqlCompileError as exc:
                        if exc.location is not None:
                            raise
                        raise self.error(node, exc.message) from exc
                    if fn is None:
                        raise self.error(
                            node, f"{source.name} has no function {node.name!r} of {len(args)} argument(s)"
                        )
                    self._overload_site(node, included, resolved, len(args))
                    return fn
            args = [self.compile(source, scope), *args]  # fluent call
            arg_nodes = [source, *arg_nodes]
            user = self.lib.function_fn(node.name, args, node, fluent=True, resolved=resolved)
            if user is not None:
                self._overload_site(node, self.lib.out, resolved, len(args))
                return user
        user = self.lib.function_fn(node.name, args, node, resolved=resolved)
        if user is not None:
            self._overload_site(node, self.lib.out, resolved, len(args))
            return user
        return self.system_call(node, node.name, args, scope, arg_nodes)

    def _overload_site(self, node: ast.Call, library: Any, resolved: Any, arity: int) -> None:
        """Record a call whose overload is chosen at run time (several of that arity, none
        resolved by the typed walk)."""
        if resolved is None and library.overload_count(node.name, arity) > 1:
            self.lib.dispatch_site(node, f"{node.name}: overload chosen at run time")

    def system_call(
        self, node: ast.Call, name: str, args: list[Fn], scope: Scope, arg_nodes: list[ast.Node] | None = None
    ) -> Fn:
        from cds.cql.compiler.functions import system_function

        return system_function(self, node, name, args, arg_nodes)

    # ------------------------------------------------------------------ data
    def _Retrieve(self, node: ast.Retrieve, scope: Scope) -> Fn:
        type_name = node.type_spec.name
        if not self.lib.is_fhir_type(type_name):
            raise self.error(node, f"unknown retrieve type {type_name!r}")
        if node.context is not None:
            raise self.error(node, "context-qualified retrieves are not supported", unsupported=True)
        code_path = node.code_path
        if node.terminology is None:
            return lambda ctx, env: ctx.retriever.retrieve(type_name)
        ref = self.lib.terminology_ref(node.terminology)
        if ref is not None and ref[0] == "valueset":
            vs_fn = ref[1]
            return lambda ctx, env: ctx.retriever.retrieve(
                type_name, code_path=code_path, valueset=vs_fn(ctx, env)
            )
        codes_fn = self.compile(node.terminology, scope)
        convert = self.converter(node, node.terminology, "retrieve codes") or _same

        def by_codes(ctx: Any, env: dict[str, Any]) -> Any:
            value = convert(codes_fn(ctx, env))
            if isinstance(value, Concept):
                codes = list(value.codes)
            elif isinstance(value, Code):
                codes = [value]
            elif isinstance(value, list):
                codes = [c for v in value for c in (v.codes if isinstance(v, Concept) else [v])]
            else:
                raise CqlRuntimeError("a retrieve filter must be codes, a concept or a value set")
            return ctx.retriever.retrieve(type_name, code_path=code_path, codes=codes)

        return by_codes

    def _Query(self, node: ast.Query, scope: Scope) -> Fn:
        from cds.cql.compiler.queries import compile_query

        return compile_query(self, node, scope)

    def _Timing(self, node: ast.Timing, scope: Scope) -> Fn:
        return self.timing(node, scope)


def _same(value: Any) -> Any:
    return value


def _str_or_empty(value: Any) -> Any:
    return "" if value is None else value
