"""A CQL library → the ELM ``library`` object (ELM JSON schema): identifier, schemaIdentifier,
usings, includes, parameters, codeSystems, valueSets, codes, concepts, contexts and
statements (defines and functions), annotation-free.

Definitions are typed on demand (a define used before it is declared is typed when first
referenced); a function's result type is its body's. Included libraries resolve as in the engine:
``<Name>-<version>.cql`` / ``<Name>.cql`` in the library folders, else the native FHIRHelpers
(typed by the model info's conversion functions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cds.cql.elm.definitions import (
    access,
    code_def,
    codesystem_def,
    concept_def,
    include_def,
    valueset_def,
)
from cds.cql.elm.static_types import StaticTypes
from cds.cql.elm.translator import ExpressionTranslator
from cds.cql.elm.typed import Local, Scope, Typed
from cds.cql.errors import SourceLocation
from cds.cql.model import fhir_400
from cds.cql.model.system_types import SYSTEM_FIRST, SYSTEM_PARENTS
from cds.cql.syntax import ast, declarations
from cds.cql.types import model_info
from cds.cql.types.errors import CannotType, CqlTypeError
from cds.cql.types.specifiers import (
    CODE,
    CODESYSTEM,
    CONCEPT,
    FHIR_URI,
    SYSTEM_URI,
    VALUESET,
    ChoiceType,
    CqlType,
    IntervalType,
    ListType,
    NamedType,
    TupleType,
    to_elm,
)


@dataclass
class FunctionInfo:
    name: str
    operands: tuple[CqlType, ...]
    decl: declarations.FunctionDef | None = None
    result: CqlType | None = None
    elm: dict[str, Any] | None = None
    in_progress: bool = False


class NativeHelpers:
    """The interface of the native FHIRHelpers: the model info's conversion functions."""

    name = "FHIRHelpers"

    def __init__(self) -> None:
        self._functions: dict[str, list[FunctionInfo]] = {}
        for source, target, name in model_info.conversion_table():
            info = FunctionInfo(name, (source,), result=target)
            self._functions.setdefault(name, []).append(info)
        # The native functions that are no implicit conversion (ToQuantityIgnoringComparator,
        # ToInterval of a Quantity, ToCalendarUnit), by their declared signatures.
        from cds.cql.model.fhirhelpers import FHIRHELPERS

        for name, overloads in FHIRHELPERS.functions.items():
            for native in overloads:
                operands = tuple(_native_type(t) for t in native.operand_types)
                known = self._functions.setdefault(name, [])
                if all(f.operands != operands for f in known):
                    known.append(FunctionInfo(name, operands, result=_native_type(native.result_type)))

    def lookup(self, name: str) -> tuple[str, CqlType] | None:
        return None

    def functions(self, name: str) -> list[FunctionInfo]:
        return self._functions.get(name, [])

    def function_result(self, info: FunctionInfo, node: ast.Node) -> CqlType:
        assert info.result is not None
        return info.result


def _native_type(name: str) -> CqlType:
    """A native FHIRHelpers signature's type name (``FHIR.Quantity``, ``Interval<System.Quantity>``)."""
    if name.startswith("Interval<"):
        return IntervalType(NamedType(name[len("Interval<") : -1]))
    return NamedType(name)


class LibraryTranslator:
    def __init__(
        self,
        library: declarations.Library,
        library_dirs: Sequence[Path] = (),
        *,
        list_promotion: bool = False,
        list_demotion: bool = False,
    ) -> None:
        self.ast = library
        #: The reference translator's options of these names (off by default, as there).
        self.list_promotion = list_promotion
        self.list_demotion = list_demotion
        #: The list promotions/demotions chosen (``id(node)`` → (node, kind)), for the engine
        #: (:func:`cds.cql.elm.list_conversions.write_list_conversions`).
        self.list_conversions: dict[int, tuple[ast.Expr, str]] = {}
        self.name = library.name
        self.library_dirs = [Path(d) for d in library_dirs]
        self.expressions = ExpressionTranslator(self)
        #: Per AST node, what the walk found (for the closure compiler).
        self.static_types = StaticTypes()
        self.defines = {d.name: d for d in library.expressions}
        self.parameters = {p.name: p for p in library.parameters}
        self._define_types: dict[str, Typed | None] = {}
        self._parameter_types: dict[str, CqlType] = {}
        self._functions: dict[str, list[FunctionInfo]] = {}
        self.uses_fhir = any(u.model == "FHIR" for u in library.usings)
        self.fhir_4_0_0 = fhir_400.declares_fhir_4_0_0(library.usings)
        for using in library.usings:
            if using.model not in ("FHIR", "System"):
                raise CannotType(f"cannot type the model {using.model}", self.where(using))
        self.includes: dict[str, Any] = {}
        self.helpers_alias: str | None = "" if library.name == "FHIRHelpers" else None
        for include in library.includes:
            self.includes[include.alias] = self._include(include)
            if include.name == "FHIRHelpers":
                self.helpers_alias = include.alias
        self.terminology: dict[str, tuple[str, CqlType]] = {}
        for cs in library.codesystems:
            self.terminology[cs.name] = ("CodeSystemRef", CODESYSTEM)
        for vs in library.valuesets:
            self.terminology[vs.name] = ("ValueSetRef", VALUESET)
        for code in library.codes:
            self.terminology[code.name] = ("CodeRef", CODE)
        for concept in library.concepts:
            self.terminology[concept.name] = ("ConceptRef", CONCEPT)
        for fn in library.functions:
            operands = tuple(self.resolve_type(o.type_spec) for o in fn.operands)
            self._functions.setdefault(fn.name, []).append(FunctionInfo(fn.name, operands, decl=fn))

    def where(self, node: ast.Node) -> SourceLocation:
        return SourceLocation(self.name, node.line, node.column)

    # ------------------------------------------------------------------ includes
    def _include(self, include: declarations.IncludeDef) -> Any:
        """As the engine resolves includes: ``<Name>-<version>.cql`` / ``<Name>.cql`` in the
        library folders, else the native FHIRHelpers (typed by the model info's conversions)."""
        from cds.cql.library_source import find_library
        from cds.cql.model.fhirhelpers import native_library
        from cds.cql.syntax import parse_library

        found = find_library(self.library_dirs, include.name, include.version)
        if found is not None:
            parsed = parse_library(found.text, source_name=found.origin)
            return LibraryTranslator(
                parsed,
                self.library_dirs,
                list_promotion=self.list_promotion,
                list_demotion=self.list_demotion,
            )
        if native_library(include.name, include.version) is not None:
            return NativeHelpers()
        raise CqlTypeError(f"included library {include.name} not found", self.where(include))

    def include(self, alias: str) -> Any:
        return self.includes.get(alias)

    # ------------------------------------------------------------------ names and types
    def resolve_type(self, spec: ast.TypeSpec) -> CqlType:
        if isinstance(spec, ast.NamedType):
            ns, name = spec.namespace, spec.name
            # Unqualified names resolve in the library's data model first, as the reference
            # translator does (``Quantity`` is ``FHIR.Quantity`` under ``using FHIR``).
            if ns is None and self.uses_fhir and model_info.is_fhir_type(name) and name not in SYSTEM_FIRST:
                return NamedType(f"FHIR.{name}")
            if ns in (None, "System") and f"System.{name}" in SYSTEM_PARENTS:
                return NamedType(f"System.{name}")
            if ns in (None, "FHIR") and self.uses_fhir and model_info.is_fhir_type(name):
                return NamedType(f"FHIR.{name}")
            if ns in (None, "FHIR") and self.fhir_4_0_0 and name in fhir_400.CODE_TYPES_4_0_0:
                return NamedType(f"FHIR.{name}")
            raise CqlTypeError(f"unknown type {ns + '.' if ns else ''}{name}", self.where(spec))
        if isinstance(spec, ast.ListType):
            return ListType(self.resolve_type(spec.element))
        if isinstance(spec, ast.IntervalType):
            return IntervalType(self.resolve_type(spec.point))
        if isinstance(spec, ast.TupleType):
            return TupleType(tuple((n, self.resolve_type(t)) for n, t in spec.elements))
        return ChoiceType(tuple(self.resolve_type(c) for c in spec.choices))

    def lookup(self, name: str) -> tuple[str, CqlType] | None:
        """What a library-level name means: (ELM reference kind, type)."""
        if name in self.defines:
            return "ExpressionRef", self.define(name).type
        if name in self.parameters:
            return "ParameterRef", self.parameter_type(name)
        if name in self.terminology:
            return self.terminology[name]
        if (
            self.uses_fhir
            and any(c.name == name for c in self.ast.contexts)
            and model_info.is_fhir_type(name)
        ):
            return "ExpressionRef", NamedType(f"FHIR.{name}")
        return None

    def define(self, name: str) -> Typed:
        if name in self._define_types:
            found = self._define_types[name]
            if found is None:
                decl = self.defines[name]
                raise CannotType(f"cannot type the recursive definition {name!r}", self.where(decl))
            return found
        self._define_types[name] = None
        decl = self.defines[name]
        typed = self.expressions.translate(decl.expression, Scope())
        self._define_types[name] = typed
        return typed

    def parameter_type(self, name: str) -> CqlType:
        if name not in self._parameter_types:
            decl = self.parameters[name]
            if decl.type_spec is not None:
                self._parameter_types[name] = self.resolve_type(decl.type_spec)
            elif decl.default is not None:
                self._parameter_types[name] = self.expressions.translate(decl.default, Scope()).type
            else:
                raise CqlTypeError(f"parameter {name!r} needs a type or a default", self.where(decl))
        return self._parameter_types[name]

    def functions(self, name: str) -> list[FunctionInfo]:
        return self._functions.get(name, [])

    def function_result(self, info: FunctionInfo, node: ast.Node) -> CqlType:
        if info.result is None:
            self._translate_function(info, node)
        assert info.result is not None
        return info.result

    def _translate_function(self, info: FunctionInfo, node: ast.Node) -> None:
        decl = info.decl
        assert decl is not None
        if info.in_progress:
            if decl.return_type is not None:
                info.result = self.resolve_type(decl.return_type)
                return
            raise CannotType(f"cannot type the recursive function {info.name!r}", self.where(node))
        if decl.body is None:  # external: typed by its declaration (the engine refuses a call to it)
            if decl.return_type is None:
                raise CqlTypeError(f"external function {info.name!r} needs a return type", self.where(decl))
            info.result = self.resolve_type(decl.return_type)
            return
        info.in_progress = True
        scope = Scope(
            {o.name: Local("operand", t) for o, t in zip(decl.operands, info.operands, strict=True)}
        )
        typed = self.expressions.translate(decl.body, scope)
        info.in_progress = False
        body = typed.elm
        if decl.return_type is not None:
            declared = self.resolve_type(decl.return_type)
            body = self.expressions.coerce(decl.body, typed, declared)
            info.result = declared
        else:
            info.result = typed.type
        info.elm = body

    # ------------------------------------------------------------------ the library object
    def to_elm(self) -> dict[str, Any]:
        lib = self.ast
        out: dict[str, Any] = {}
        identifier: dict[str, Any] = {"id": lib.name or "Anonymous"}
        if lib.version:
            identifier["version"] = lib.version
        out["identifier"] = identifier
        out["schemaIdentifier"] = {"id": "urn:hl7-org:elm", "version": "r1"}
        usings = [{"localIdentifier": "System", "uri": SYSTEM_URI}]
        for u in lib.usings:
            if u.model == "FHIR":
                usings.append({"localIdentifier": "FHIR", "uri": FHIR_URI, "version": "4.0.1"})
        out["usings"] = {"def": usings}
        if lib.includes:
            out["includes"] = {"def": [include_def(i) for i in lib.includes]}
        if lib.parameters:
            out["parameters"] = {"def": [self._parameter_def(p) for p in lib.parameters]}
        if lib.codesystems:
            out["codeSystems"] = {"def": [codesystem_def(c) for c in lib.codesystems]}
        if lib.valuesets:
            out["valueSets"] = {"def": [valueset_def(v) for v in lib.valuesets]}
        if lib.codes:
            out["codes"] = {"def": [code_def(c) for c in lib.codes]}
        if lib.concepts:
            out["concepts"] = {"def": [concept_def(c) for c in lib.concepts]}
        if lib.contexts:
            out["contexts"] = {"def": [{"name": c.name} for c in lib.contexts]}
        statements = self._context_defs()
        ordered: list[declarations.ExpressionDef | declarations.FunctionDef] = [
            *lib.expressions,
            *lib.functions,
        ]
        for decl in sorted(ordered, key=lambda d: (d.line, d.column)):
            statements.append(self._statement(decl))
        if statements:
            out["statements"] = {"def": statements}
        return {"library": out}

    def _context_defs(self) -> list[dict[str, Any]]:
        out = []
        for c in self.ast.contexts:
            if self.uses_fhir and model_info.is_fhir_type(c.name) and c.name not in self.defines:
                retrieve = {
                    "type": "Retrieve",
                    "dataType": "{" + FHIR_URI + "}" + c.name,
                    "templateId": model_info.retrievable_template(NamedType(f"FHIR.{c.name}")),
                }
                out.append(
                    {
                        "name": c.name,
                        "context": c.name,
                        "expression": {"type": "SingletonFrom", "operand": retrieve},
                    }
                )
        return out

    def _parameter_def(self, p: declarations.ParameterDef) -> dict[str, Any]:
        out: dict[str, Any] = {"name": p.name, "accessLevel": access(p.access)}
        t = self.parameter_type(p.name)
        if p.default is not None:
            default = self.expressions.translate(p.default, Scope())
            out["default"] = self.expressions.coerce(p.default, default, t)
        if p.type_spec is not None:
            out["parameterTypeSpecifier"] = to_elm(t)
        return out

    def _statement(self, decl: declarations.ExpressionDef | declarations.FunctionDef) -> dict[str, Any]:
        if isinstance(decl, declarations.ExpressionDef):
            typed = self.define(decl.name)
            return {
                "name": decl.name,
                "context": decl.context,
                "accessLevel": access(decl.access),
                "expression": typed.elm,
            }
        info = next(f for f in self._functions[decl.name] if f.decl is decl)
        out: dict[str, Any] = {
            "type": "FunctionDef",
            "name": decl.name,
            "context": decl.context,
            "accessLevel": access(decl.access),
        }
        if decl.fluent:
            out["fluent"] = True
        if decl.body is None:
            out["external"] = True
        else:
            if info.elm is None:
                self._translate_function(info, decl)
            out["expression"] = info.elm
        out["operand"] = [
            {"name": o.name, "operandTypeSpecifier": to_elm(t)}
            for o, t in zip(decl.operands, info.operands, strict=True)
        ]
        return out

    def check(self) -> None:
        """Type every definition and function (raises the first type error)."""
        for expression in self.ast.expressions:
            self._statement(expression)
        for function in self.ast.functions:
            self._statement(function)
        for p in self.ast.parameters:
            self._parameter_def(p)


def library_to_elm(
    library: declarations.Library,
    library_dirs: Sequence[Path] = (),
    *,
    list_promotion: bool = False,
    list_demotion: bool = False,
) -> dict[str, Any]:
    """The ELM JSON (``{"library": ...}``) of a parsed library; raises CqlTypeError /
    CannotType (both CqlError) with positions. ``list_promotion`` allows a single value where
    a list is expected (written ``ToList``), ``list_demotion`` a list where a single value is
    expected (``SingletonFrom``), as the reference translator's options of these names do."""
    translator = LibraryTranslator(
        library, library_dirs, list_promotion=list_promotion, list_demotion=list_demotion
    )
    return translator.to_elm()
