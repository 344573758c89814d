"""Library declarations: definitions, functions, parameters, terminology, includes.

``compile_library(library_ast, resolver=...)`` compiles every declaration and collects every
problem into one :class:`~cds.cql.errors.CqlLoadError`. Definitions are compiled lazily in
dependency order but all of them at load time; at run time each define is evaluated at most
once per evaluation (the context's cache).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cds.cql.compiler.compiled import CompiledDef, CompiledFunction, CompiledLibrary, call_user, define_ref
from cds.cql.compiler.expressions import ExpressionCompiler, Fn
from cds.cql.compiler.scope import Scope
from cds.cql.compiler.values import is_type
from cds.cql.errors import CqlCompileError, CqlError, CqlLoadError, CqlRuntimeError, SourceLocation
from cds.cql.model import fhir_400, fhir_model
from cds.cql.model.fhirhelpers import NativeLibrary
from cds.cql.model.system_types import SYSTEM_FIRST
from cds.cql.runtime.clinical import Code, CodeSystemRef, Concept, ValueSetRef
from cds.cql.syntax import ast, declarations

SYSTEM_TYPE_NAMES = frozenset(
    {
        "Any",
        "Boolean",
        "Integer",
        "Long",
        "Decimal",
        "String",
        "Date",
        "DateTime",
        "Time",
        "Quantity",
        "Ratio",
        "Code",
        "Concept",
        "ValueSet",
        "CodeSystem",
        "Vocabulary",
    }
)


class _NativeInclude:
    """An included native library (FHIRHelpers)."""

    def __init__(self, native: NativeLibrary) -> None:
        self.native = native

    def definition_fn(self, name: str) -> Fn | None:
        return None

    def function_fn(self, name: str, args: list[Fn], node: ast.Node, resolved: Any = None) -> Fn | None:
        overloads = [f for f in self.native.overloads(name) if len(f.operand_types) == len(args)]
        if not overloads:
            return None
        chosen = self._static_overload(name, overloads, resolved)
        if chosen is not None:
            impl = chosen.impl
            if len(args) == 1:
                (arg,) = args
                return lambda ctx, env: impl(arg(ctx, env))
            return lambda ctx, env: impl(*[a(ctx, env) for a in args])
        specs = [[("named", *_split(t)) for t in f.operand_types] for f in overloads]

        def call(ctx: Any, env: dict[str, Any]) -> Any:
            values = [a(ctx, env) for a in args]
            for overload, spec in zip(overloads, specs, strict=True):
                if all(v is None or is_type(v, s) for v, s in zip(values, spec, strict=True)):
                    return overload.impl(*values)
            return overloads[0].impl(*values)

        return call

    def _static_overload(self, name: str, overloads: list[Any], resolved: Any) -> Any:
        """The native overload the typed walk resolved: the one of its operand types, else (the
        walk names a FHIR subtype, e.g. ``FHIR.ObservationStatus`` for ``ToString``) the only
        implementation of that name and arity."""
        if len(overloads) == 1:
            return overloads[0]
        if resolved is None:
            return None
        exact = self.native.resolve(name, tuple(str(t) for t in resolved.operands))
        if exact is not None:
            return exact
        if len({f.impl for f in overloads}) == 1 or len({f.result_type for f in overloads}) == 1:
            return overloads[0]  # one behaviour (each overload reads a FHIR primitive the same way)
        return None

    def overload_count(self, name: str, arity: int) -> int:
        return sum(1 for f in self.native.overloads(name) if len(f.operand_types) == arity)


def _split(qualified: str) -> tuple[str | None, str]:
    if "<" in qualified:
        return None, "Any"
    if "." in qualified:
        ns, name = qualified.split(".", 1)
        return ns, name
    return None, qualified


class LibraryCompiler:
    def __init__(self, library: declarations.Library, resolver: Any, static_types: Any = None) -> None:
        self.ast = library
        self.resolver = resolver
        self.name = library.name
        #: The typed walk's findings (:class:`cds.cql.elm.static_types.StaticTypes`), or None.
        self.static_types = static_types
        self.out = CompiledLibrary(library.name, library.version)
        self.out.typed = static_types is not None
        self.errors: list[CqlError] = []
        self.expr = ExpressionCompiler(self)
        self._compiling: set[str] = set()

    # ------------------------------------------------------------------ entry
    def compile(self) -> CompiledLibrary:
        lib = self.ast
        for using in lib.usings:
            if using.model not in ("FHIR", "System"):
                self._error(using, f"model {using.model} is not supported")
            elif using.model == "FHIR" and using.version not in (None, "4.0.1", "4.0.0"):
                self._error(using, f"FHIR version {using.version} is not supported (4.0.1 is)")
        for inc in lib.includes:
            try:
                target = self.resolver.resolve(inc.name, inc.version)
            except CqlLoadError as load_error:
                self.errors.extend(load_error.errors)
                continue
            except CqlError as include_error:
                self.errors.append(include_error)
                continue
            self.out.includes[inc.alias] = (
                _NativeInclude(target) if isinstance(target, NativeLibrary) else target
            )
        for cs in lib.codesystems:
            self.out.codesystems[cs.name] = CodeSystemRef(cs.url, cs.version)
        terminology = getattr(self.resolver, "terminology", None)
        for vs in lib.valuesets:
            ref = ValueSetRef(
                vs.url,
                vs.version,
                tuple(self.out.codesystems[c] for c in vs.codesystems if c in self.out.codesystems),
            )
            if terminology is not None and not terminology.has_valueset(vs.url, vs.version):
                self._error(vs, f"value set {vs.name!r} ({vs.url}) is not available in the terminology")
            self.out.valuesets[vs.name] = ref
        for code in lib.codes:
            cs_ref = self.out.codesystems.get(code.system)
            if cs_ref is None:
                self._error(code, f"unknown code system {code.system!r}")
                continue
            self.out.codes[code.name] = Code(code.code, cs_ref.id, cs_ref.version, code.display)
        for concept in lib.concepts:
            codes = []
            for name in concept.codes:
                if name not in self.out.codes:
                    self._error(concept, f"unknown code {name!r}")
                else:
                    codes.append(self.out.codes[name])
            self.out.concepts[concept.name] = Concept(tuple(codes), concept.display)
        for fdef in lib.functions:
            try:
                types = [self.type_description(o.type_spec, o) for o in fdef.operands]
            except CqlCompileError as operand_error:
                self.errors.append(operand_error)
                continue
            self.out.functions.setdefault(fdef.name, []).append(CompiledFunction(fdef, types))
        for context in lib.contexts:
            if context.name == "Patient" and "Patient" not in self.out.defs:
                # `context Patient` defines "Patient": the context value (SingletonFrom([Patient])).
                node = declarations.ExpressionDef(
                    context.line,
                    context.column,
                    "Patient",
                    ast.Identifier(context.line, context.column, "Patient"),
                    "Patient",
                )
                patient = CompiledDef("Patient", node)
                patient.fn = lambda ctx, env: ctx.context_values.get("Patient")
                self.out.defs["Patient"] = patient
        for edef in lib.expressions:
            if edef.name in self.out.defs and edef.name != "Patient":
                self._error(edef, f"{edef.name!r} is defined twice")
            self.out.defs[edef.name] = CompiledDef(edef.name, edef)
        for param in lib.parameters:
            self._compile_parameter(param)
        for d in list(self.out.defs.values()):
            self._compile_def(d)
        for overloads in self.out.functions.values():
            for f in overloads:
                self._compile_function(f)
        if self.errors:
            raise CqlLoadError(self.errors)
        return self.out

    def static_type(self, node: ast.Node | None) -> Any:
        """The static type the typed walk gave ``node``, or None (not known)."""
        if node is None or self.static_types is None:
            return None
        return self.static_types.type_of(node)

    def static_call(self, node: ast.Node, name: str) -> Any:
        """The overload the typed walk resolved for the call of ``name`` at ``node``, or None."""
        if self.static_types is None:
            return None
        return self.static_types.call(node, name)

    def dispatch_site(self, node: ast.Node, what: str) -> None:
        """Record a place where a decision is left to run time (no static type there)."""
        self.out.dispatch_sites.append(f"{self.name}:{node.line}:{node.column}: {what}")

    def _error(self, node: ast.Node, message: str) -> None:
        self.errors.append(CqlCompileError(message, SourceLocation(self.name, node.line, node.column)))

    def _compile_def(self, d: CompiledDef) -> None:
        if d.fn is not None or d.name in self._compiling:
            return
        self._compiling.add(d.name)
        try:
            d.fn = self.expr.compile(d.node.expression, Scope())
        except CqlCompileError as exc:
            self.errors.append(exc)
            d.fn = _failed
        finally:
            self._compiling.discard(d.name)

    def _compile_function(self, f: CompiledFunction) -> None:
        if f.fn is not None:
            return
        if f.node.body is None:
            # Declaring an external function is allowed (the official FHIRHelpers declares
            # FHIRPath ones); a call that can only reach external functions is refused at
            # load (function_fn), and one that reaches one at run time fails.
            name = f.name
            f.fn = lambda ctx, env: _external(name)
            return
        try:
            f.fn = self.expr.compile(f.node.body, Scope(frozenset(f.operand_names)))
        except CqlCompileError as exc:
            self.errors.append(exc)
            f.fn = _failed

    def _compile_parameter(self, param: declarations.ParameterDef) -> None:
        default: Fn | None = None
        if param.default is not None:
            try:
                default = self.expr.compile(param.default, Scope())
            except CqlCompileError as exc:
                self.errors.append(exc)
        spec = None
        if param.type_spec is not None:
            try:
                spec = self.type_description(param.type_spec, param)
            except CqlCompileError as exc:
                self.errors.append(exc)
        self.out.parameters[param.name] = (default, spec)

    # ------------------------------------------------------------------ resolution
    def names(self) -> set[str]:
        o = self.out
        return (
            set(o.defs)
            | set(o.parameters)
            | set(o.valuesets)
            | set(o.codesystems)
            | set(o.codes)
            | set(o.concepts)
        )

    def resolve_name(self, name: str, node: ast.Node) -> Fn | None:
        o = self.out
        if name in o.defs:
            return define_ref(o.defs[name])
        if name in o.parameters:
            default, spec = o.parameters[name]
            return _parameter_fn(name, default, spec)
        if name in o.valuesets:
            vs = o.valuesets[name]
            return lambda ctx, env: vs
        if name in o.codesystems:
            cs = o.codesystems[name]
            return lambda ctx, env: cs
        if name in o.codes:
            code = o.codes[name]
            return lambda ctx, env: code
        if name in o.concepts:
            concept = o.concepts[name]
            return lambda ctx, env: concept
        if name in ("Patient", "Practitioner", "Unfiltered") and any(
            c.name == name for c in self.ast.contexts
        ):
            return lambda ctx, env: ctx.context_values.get(name)
        return None

    def included(self, alias: str) -> Any:
        return self.out.includes.get(alias)

    def terminology_ref(self, node: ast.Expr) -> tuple[str, Fn] | None:
        if isinstance(node, ast.Identifier):
            if node.name in self.out.valuesets:
                vs = self.out.valuesets[node.name]
                return "valueset", lambda ctx, env: vs
            if node.name in self.out.codesystems:
                cs = self.out.codesystems[node.name]
                return "codesystem", lambda ctx, env: cs
        return None

    def function_fn(
        self, name: str, args: list[Fn], node: ast.Node, fluent: bool = False, resolved: Any = None
    ) -> Fn | None:
        declared = self.out.functions.get(name, [])
        overloads = [f for f in declared if len(f.operand_names) == len(args)]
        if fluent:
            overloads = [f for f in overloads if f.fluent]
        if not overloads:
            return None
        if all(f.node.body is None for f in overloads):
            raise CqlCompileError(
                f"function {name!r} is external: the engine cannot run it",
                SourceLocation(self.name, node.line, node.column),
            )
        if resolved is not None and 0 <= resolved.index < len(declared) and declared[resolved.index] in overloads:
            return call_user([declared[resolved.index]], args)  # the overload the typed walk chose
        return call_user(overloads, args)

    def is_fhir_type(self, name: str) -> bool:
        if name in fhir_400.CODE_TYPES_4_0_0 and fhir_400.declares_fhir_4_0_0(self.ast.usings):
            return True
        return fhir_model.is_fhir_type(name)

    def _default_namespace(self, name: str) -> str:
        """Where an unqualified type name resolves: as the reference translator does, in the
        library's data model first (``Quantity`` is ``FHIR.Quantity`` under ``using FHIR``),
        then in System."""
        uses_fhir = any(u.model == "FHIR" for u in self.ast.usings)
        if uses_fhir and self.is_fhir_type(name) and name not in SYSTEM_FIRST:
            return "FHIR"
        return "System" if name in SYSTEM_TYPE_NAMES else "FHIR"

    def type_name(self, spec: ast.TypeSpec) -> str:
        if isinstance(spec, ast.NamedType):
            if spec.namespace:
                return f"{spec.namespace}.{spec.name}"
            return f"{self._default_namespace(spec.name)}.{spec.name}"
        if isinstance(spec, ast.ListType):
            return f"List<{self.type_name(spec.element)}>"
        if isinstance(spec, ast.IntervalType):
            return f"Interval<{self.type_name(spec.point)}>"
        return "Tuple"

    def type_description(self, spec: ast.TypeSpec, node: ast.Node) -> Any:
        if isinstance(spec, ast.NamedType):
            ns = spec.namespace
            if ns is None:
                ns = self._default_namespace(spec.name)
            if ns == "System" and spec.name not in SYSTEM_TYPE_NAMES:
                raise CqlCompileError(
                    f"unknown type System.{spec.name}", SourceLocation(self.name, spec.line, spec.column)
                )
            if ns == "FHIR" and not self.is_fhir_type(spec.name):
                raise CqlCompileError(
                    f"unknown type {spec.name}", SourceLocation(self.name, spec.line, spec.column)
                )
            return ("named", ns, spec.name)
        if isinstance(spec, ast.ListType):
            return ("list", self.type_description(spec.element, node))
        if isinstance(spec, ast.IntervalType):
            return ("interval", self.type_description(spec.point, node))
        if isinstance(spec, ast.ChoiceType):
            return ("choice", [self.type_description(c, node) for c in spec.choices])
        return ("tuple", [(n, self.type_description(t, node)) for n, t in spec.elements])


def _parameter_fn(name: str, default: Fn | None, spec: Any) -> Fn:
    def read(ctx: Any, env: dict[str, Any]) -> Any:
        if name in ctx.parameters:
            return ctx.parameters[name]
        if default is None:
            return None
        key = ("param", name)
        cache = ctx.cache
        if key not in cache:
            cache[key] = default(ctx, {})
        return cache[key]

    return read


def _external(name: str) -> Any:
    raise CqlRuntimeError(f"function {name!r} is external: the engine cannot run it")


def _failed(ctx: Any, env: dict[str, Any]) -> Any:
    raise CqlRuntimeError("this definition did not compile")


def compile_library(
    library_ast: declarations.Library, *, resolver: Any, static_types: Any = None
) -> CompiledLibrary:
    """Compile a parsed library; ``static_types`` (the typed walk's side table) lets the compiler
    decide conversions, overloads and operator implementations at load time."""
    return LibraryCompiler(library_ast, resolver, static_types).compile()


Compiled = Callable[..., Any]
