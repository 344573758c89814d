"""The library-level nodes of the CQL syntax tree: :class:`Library` and its declarations —
:class:`UsingDef`, :class:`IncludeDef`, :class:`CodeSystemDef`, :class:`ValueSetDef`,
:class:`CodeDef`, :class:`ConceptDef`, :class:`ParameterDef`, :class:`ContextDef`,
:class:`ExpressionDef`, :class:`FunctionDef` (:class:`OperandDef`). Expressions and type
specifiers are in :mod:`cds.cql.syntax.ast`."""

from __future__ import annotations

from dataclasses import dataclass, field

from cds.cql.syntax.ast import Expr, Node, TypeSpec


@dataclass(slots=True)
class UsingDef(Node):
    model: str
    version: str | None


@dataclass(slots=True)
class IncludeDef(Node):
    name: str
    version: str | None
    alias: str


@dataclass(slots=True)
class CodeSystemDef(Node):
    name: str
    url: str
    version: str | None
    access: str = "public"


@dataclass(slots=True)
class ValueSetDef(Node):
    name: str
    url: str
    version: str | None
    codesystems: list[str] = field(default_factory=list)
    access: str = "public"


@dataclass(slots=True)
class CodeDef(Node):
    name: str
    code: str
    system: str
    display: str | None
    access: str = "public"


@dataclass(slots=True)
class ConceptDef(Node):
    name: str
    codes: list[str]
    display: str | None
    access: str = "public"


@dataclass(slots=True)
class ParameterDef(Node):
    name: str
    type_spec: TypeSpec | None
    default: Expr | None
    access: str = "public"


@dataclass(slots=True)
class ContextDef(Node):
    name: str


@dataclass(slots=True)
class ExpressionDef(Node):
    name: str
    expression: Expr
    context: str
    access: str = "public"


@dataclass(slots=True)
class OperandDef(Node):
    name: str
    type_spec: TypeSpec


@dataclass(slots=True)
class FunctionDef(Node):
    name: str
    operands: list[OperandDef]
    return_type: TypeSpec | None
    body: Expr | None  # None: external
    context: str
    fluent: bool = False
    access: str = "public"


@dataclass(slots=True)
class Library(Node):
    name: str | None
    version: str | None
    usings: list[UsingDef] = field(default_factory=list)
    includes: list[IncludeDef] = field(default_factory=list)
    codesystems: list[CodeSystemDef] = field(default_factory=list)
    valuesets: list[ValueSetDef] = field(default_factory=list)
    codes: list[CodeDef] = field(default_factory=list)
    concepts: list[ConceptDef] = field(default_factory=list)
    parameters: list[ParameterDef] = field(default_factory=list)
    contexts: list[ContextDef] = field(default_factory=list)
    expressions: list[ExpressionDef] = field(default_factory=list)
    functions: list[FunctionDef] = field(default_factory=list)
