"""The typed walk of CQL expressions: each AST node → (ELM JSON node, static CQL type).

Identifiers, properties, function calls and System operators are resolved here with the CQL
type-resolution rules of :mod:`cds.cql.types`: overloads by conversion score, implicit
conversions written out (``FHIRHelpers.ToString`` as a ``FunctionRef``, ``ToDecimal``, ...),
``null`` typed by its context (``As``). Ill-typed expressions raise
:class:`~cds.cql.types.errors.CqlTypeError`; constructs not covered raise
:class:`~cds.cql.types.errors.CannotType` — both with the position. Operators are in
:mod:`cds.cql.elm.operators`, selectors and conditionals in :mod:`cds.cql.elm.selectors`,
queries, retrieves and timing phrases in :mod:`cds.cql.elm.queries`, System functions (age,
``Coalesce``, ``Skip``/``Take``...) in :mod:`cds.cql.elm.functions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cds.cql.elm import shapes
from cds.cql.elm.functions import SystemFunctionTranslator
from cds.cql.elm.list_conversions import DEMOTE, PROMOTE
from cds.cql.elm.operators import OperatorTranslator
from cds.cql.elm.queries import QueryTranslator
from cds.cql.elm.selectors import SelectorTranslator
from cds.cql.elm.static_types import CallInfo
from cds.cql.elm.typed import Scope, Typed
from cds.cql.errors import SourceLocation
from cds.cql.syntax import ast
from cds.cql.types import model_info
from cds.cql.types.conversions import Conversion, convert
from cds.cql.types.errors import CannotType, CqlTypeError
from cds.cql.types.overloads import Resolution, resolve
from cds.cql.types.signatures import Signature, signatures
from cds.cql.types.specifiers import (
    ANY,
    BOOLEAN,
    CODE,
    DECIMAL,
    INTEGER,
    LONG,
    NULL,
    QUANTITY,
    RATIO,
    STRING,
    ChoiceType,
    CqlType,
    IntervalType,
    ListType,
    NamedType,
    TupleType,
    choice_of,
    system,
    to_elm,
)

if TYPE_CHECKING:
    from cds.cql.elm.library import LibraryTranslator


SYSTEM_CLASS_ELEMENTS: dict[str, dict[str, CqlType]] = {
    "System.Quantity": {"value": DECIMAL, "unit": STRING},
    "System.Ratio": {"numerator": QUANTITY, "denominator": QUANTITY},
    "System.Code": {"code": STRING, "system": STRING, "version": STRING, "display": STRING},
    "System.Concept": {"codes": ListType(CODE), "display": STRING},
    "System.ValueSet": {"id": STRING, "version": STRING, "name": STRING},
    "System.CodeSystem": {"id": STRING, "version": STRING, "name": STRING},
}


class ExpressionTranslator:
    def __init__(self, library: LibraryTranslator) -> None:
        self.lib = library
        self.queries = QueryTranslator(self)
        self.operators = OperatorTranslator(self)
        self.selectors = SelectorTranslator(self)
        self.functions = SystemFunctionTranslator(self)
        self._helpers = (self, self.operators, self.selectors, self.queries)

    # ------------------------------------------------------------------ errors and helpers
    def where(self, node: ast.Node) -> SourceLocation:
        return SourceLocation(self.lib.name, node.line, node.column)

    def type_error(self, node: ast.Node, message: str) -> CqlTypeError:
        return CqlTypeError(message, self.where(node))

    def cannot(self, node: ast.Node, what: str) -> CannotType:
        return CannotType(f"cannot type {what}", self.where(node))

    def translate(self, node: ast.Expr, scope: Scope) -> Typed:
        name = "_" + type(node).__name__
        method = next((getattr(h, name) for h in self._helpers if hasattr(h, name)), None)
        if method is None:
            raise self.cannot(node, f"{type(node).__name__} expressions")
        result: Typed = method(node, scope)
        if result.node is None:
            result.node = node
        self.lib.static_types.record(node, result.type)
        return result

    def type_spec(self, spec: ast.TypeSpec) -> CqlType:
        return self.lib.resolve_type(spec)

    def apply(self, node: ast.Node, elm: dict[str, Any], conversion: Conversion) -> dict[str, Any]:
        """``elm`` converted as ``conversion`` says."""
        kind = conversion.kind
        if kind == "none":
            return elm
        if kind == "null":
            return shapes.null_as(conversion.target, elm)
        if kind == "cast":
            return {
                "type": "As",
                "strict": False,
                "operand": elm,
                "asTypeSpecifier": to_elm(conversion.target),
            }
        if kind == "operator":
            return shapes.operator(conversion.name, [elm])
        if kind == "function":
            ref: dict[str, Any] = {"type": "FunctionRef", "name": conversion.name}
            alias = self.lib.helpers_alias
            if alias is None:
                raise self.type_error(
                    node, f"{conversion.source} needs FHIRHelpers.{conversion.name}: include FHIRHelpers"
                )
            if alias:
                ref["libraryName"] = alias
            ref["operand"] = [elm]
            return ref
        assert conversion.inner is not None
        if kind == "promote":  # list promotion (an option)
            return {"type": "ToList", "operand": self.apply(node, elm, conversion.inner)}
        if kind == "demote":  # list demotion (an option)
            return self.apply(node, {"type": "SingletonFrom", "operand": elm}, conversion.inner)
        if kind == "interval":  # null bounds typed as the target's point type
            if elm.get("type") != "Interval":
                return elm
            inner = conversion.inner
            return {
                **elm,
                "low": self.apply(node, elm["low"], inner),
                "high": self.apply(node, elm["high"], inner),
            }
        if elm.get("type") == "List":  # a list selector converts element by element
            items = [self.apply(node, item, conversion.inner) for item in elm.get("element", [])]
            return {**elm, "element": items}
        row = {"type": "AliasRef", "name": "X"}
        return {
            "type": "Query",
            "source": [{"alias": "X", "expression": elm}],
            "return": {"distinct": False, "expression": self.apply(node, row, conversion.inner)},
        }

    def coerce(self, node: ast.Node, typed: Typed, target: CqlType) -> dict[str, Any]:
        conversion = convert(typed.type, target, self.lib.list_promotion, self.lib.list_demotion)
        if conversion is None:
            raise self.type_error(node, f"expected {target}, found {typed.type}")
        self.note(node, typed, conversion)
        return self.apply(node, typed.elm, conversion)

    def note(self, node: ast.Node, typed: Typed, conversion: Conversion) -> None:
        """Record a list promotion/demotion of ``typed`` for the engine
        (:mod:`cds.cql.elm.list_conversions`); one on a value with no syntax node of its own
        cannot be written for the engine: refused (fail closed)."""
        if conversion.kind not in (PROMOTE, DEMOTE):
            return
        if typed.node is None:
            what = "promotion" if conversion.kind == PROMOTE else "demotion"
            raise self.cannot(node, f"the list {what} of {typed.type} here")
        self.lib.list_conversions[id(typed.node)] = (typed.node, conversion.kind)

    def resolve(self, candidates: Sequence[Signature], args: Sequence[Typed]) -> Resolution | None:
        """Overload resolution with the library's list promotion/demotion options."""
        return resolve(
            candidates,
            [a.type for a in args],
            promotion=self.lib.list_promotion,
            demotion=self.lib.list_demotion,
        )

    def call_operator(self, node: ast.Node, name: str, args: list[Typed], **extra: Any) -> Typed:
        """System operator ``name`` on ``args``: overload resolution, conversions, the node."""
        candidates = signatures(name)
        if not candidates:
            raise self.cannot(node, f"the System operator {name}")
        found = self.resolve(candidates, args)
        if found is None and name == "Flatten" and self.lib.list_promotion:
            return self.functions.flatten_promoted(node, args)
        if found is None:
            types = ", ".join(str(a.type) for a in args)
            raise self.type_error(node, f"no {name} operator for ({types})")
        for a, c in zip(args, found.conversions, strict=True):
            self.note(node, a, c)
        operands = [self.apply(node, a.elm, c) for a, c in zip(args, found.conversions, strict=True)]
        self.lib.static_types.record_call(node, name, CallInfo(found.index, found.operands, found.conversions))
        return Typed(shapes.operator(name, operands, **extra), found.result)

    # ------------------------------------------------------------------ literals
    def _Literal(self, node: ast.Literal, scope: Scope) -> Typed:
        kind, value = node.kind, node.value
        if kind == "null":
            return Typed({"type": "Null"}, NULL)
        if kind == "boolean":
            return Typed(shapes.literal(BOOLEAN, "true" if value else "false"), BOOLEAN)
        if kind in ("integer", "long", "decimal", "string"):
            t = {"integer": INTEGER, "long": LONG, "decimal": DECIMAL, "string": STRING}[kind]
            return Typed(shapes.literal(t, str(value)), t)
        if kind in ("date", "datetime", "time"):
            t = system({"date": "Date", "datetime": "DateTime", "time": "Time"}[kind])
            try:
                return Typed(shapes.temporal(kind, str(value)), t)
            except ValueError as exc:
                raise self.type_error(node, f"invalid {kind} literal @{value}: {exc}") from exc
        raise self.cannot(node, f"{kind} literals")

    def _QuantityLit(self, node: ast.QuantityLit, scope: Scope) -> Typed:
        return Typed(self.quantity(node), QUANTITY)

    def quantity(self, node: ast.QuantityLit) -> dict[str, Any]:
        number = float(node.value) if "." in node.value else int(node.value)
        return {"type": "Quantity", "value": number, "unit": node.unit}

    def _RatioLit(self, node: ast.RatioLit, scope: Scope) -> Typed:
        numerator, denominator = self.quantity(node.numerator), self.quantity(node.denominator)
        del numerator["type"], denominator["type"]  # ELM's Ratio holds quantity values, not expressions
        elm = {"type": "Ratio", "numerator": numerator, "denominator": denominator}
        return Typed(elm, RATIO)

    # ------------------------------------------------------------------ names
    def _Identifier(self, node: ast.Identifier, scope: Scope) -> Typed:
        name = node.name
        local = scope.locals.get(name)
        if local is not None:
            kind = {"alias": "AliasRef", "let": "QueryLetRef", "operand": "OperandRef"}[local.kind]
            return Typed({"type": kind, "name": name}, local.type)
        if scope.sort_row is not None and self.lib.lookup(name) is None:
            element = self.element_type(node, scope.sort_row, name)
            return Typed({"type": "IdentifierRef", "name": name}, element)
        found = self.lib.lookup(name)
        if found is None:
            raise self.type_error(node, f"could not resolve identifier {name!r}")
        kind, t = found
        elm: dict[str, Any] = {"type": kind, "name": name}
        if kind == "ValueSetRef":
            elm["preserve"] = True
        return Typed(elm, t)

    def element_type(self, node: ast.Node, source: CqlType, name: str) -> CqlType:
        """The type of property ``name`` of a ``source`` value (not a list). Of a choice: the
        choice of the property's types in the members that have it (as the reference
        translator types it); none has it: a type error."""
        if isinstance(source, ChoiceType):
            members: list[CqlType] = []
            for member in source.choices:
                try:
                    members.append(self.element_type(node, member, name))
                except (CqlTypeError, CannotType):
                    continue
            if not members:
                raise self.type_error(node, f"{source} has no element {name!r}")
            return choice_of(members)
        if isinstance(source, TupleType):
            found = source.element(name)
            if found is None:
                raise self.type_error(node, f"{source} has no element {name!r}")
            return found
        if isinstance(source, NamedType):
            if source.model == "FHIR":
                t = model_info.element_type(source, name)
                if t is None:
                    raise self.type_error(node, f"{source} has no element {name!r}")
                return t
            elements = SYSTEM_CLASS_ELEMENTS.get(source.name)
            if elements is not None and name in elements:
                return elements[name]
        if isinstance(source, IntervalType) and name in ("low", "high"):
            return source.point
        if isinstance(source, IntervalType) and name in ("lowClosed", "highClosed"):
            return BOOLEAN
        raise self.cannot(node, f"the property {name!r} of {source}")

    def _Member(self, node: ast.Member, scope: Scope) -> Typed:
        if isinstance(node.source, ast.Identifier) and node.source.name not in scope.locals:
            included = self.lib.include(node.source.name)
            if included is not None:
                found = included.lookup(node.name)
                if found is None:
                    raise self.type_error(node, f"{node.source.name} has no definition {node.name!r}")
                kind, t = found
                elm = {"type": kind, "name": node.name, "libraryName": node.source.name}
                return Typed(elm, t)
        source = self.translate(node.source, scope)
        return self.property(node, source, node.name)

    def property(self, node: ast.Node, source: Typed, name: str) -> Typed:
        if isinstance(source.type, ListType):
            return self.list_property(node, source, name)
        t = self.element_type(node, source.type, name)
        if source.elm.get("type") == "AliasRef":
            return Typed({"type": "Property", "path": name, "scope": source.elm["name"]}, t)
        return Typed({"type": "Property", "path": name, "source": source.elm}, t)

    def list_property(self, node: ast.Node, source: Typed, name: str) -> Typed:
        """A path through a list: each element's property, non-null, flattened (as the reference
        translator writes it: a query of ``$this``)."""
        assert isinstance(source.type, ListType)
        t = self.element_type(node, source.type.element, name)
        this = {"type": "AliasRef", "name": "$this"}
        prop = {"type": "Property", "path": name, "source": this}
        query = {
            "type": "Query",
            "source": [{"alias": "$this", "expression": source.elm}],
            "where": {"type": "Not", "operand": {"type": "IsNull", "operand": prop}},
            "return": {"distinct": False, "expression": prop},
        }
        if isinstance(t, ListType):
            return Typed({"type": "Flatten", "operand": query}, t)
        return Typed(query, ListType(t))

    # ------------------------------------------------------------------ calls
    def _Call(self, node: ast.Call, scope: Scope) -> Typed:
        library = None
        args = list(node.args)
        if node.source is not None:
            if isinstance(node.source, ast.Identifier) and node.source.name not in scope.locals:
                library = self.lib.include(node.source.name)
            if library is None:
                args = [node.source, *args]
        typed = [self.translate(a, scope) for a in args]
        if node.source is not None and library is None and node.name == "descendents" and len(typed) == 1:
            # ``x.descendents()`` (the method form only, as in the reference translator)
            return Typed({"type": "Descendents", "source": typed[0].elm}, ListType(ANY))
        if library is not None:
            assert isinstance(node.source, ast.Identifier)
            return self.function_call(node, library, node.source.name, typed)
        if self.lib.functions(node.name):
            return self.function_call(node, self.lib, None, typed)
        return self.functions.system_call(node, typed)

    def function_call(self, node: ast.Call, library: Any, alias: str | None, args: list[Typed]) -> Typed:
        functions = library.functions(node.name)
        if not functions:
            raise self.type_error(node, f"unknown function {node.name!r}")
        candidates = [Signature(f.operands, ANY) for f in functions]
        found = self.resolve(candidates, args)
        if found is None:
            types = ", ".join(str(a.type) for a in args)
            raise self.type_error(node, f"no function {node.name}({types})")
        for a, c in zip(args, found.conversions, strict=True):
            self.note(node, a, c)
        operands = [self.apply(node, a.elm, c) for a, c in zip(args, found.conversions, strict=True)]
        info = CallInfo(found.index, found.operands, found.conversions)
        self.lib.static_types.record_call(node, node.name, info)
        elm: dict[str, Any] = {"type": "FunctionRef", "name": node.name}
        if alias:
            elm["libraryName"] = alias
        elm["operand"] = operands
        return Typed(elm, library.function_result(functions[found.index], node))

    # ------------------------------------------------------------------ operators

    # ------------------------------------------------------------------ conditionals
    def condition(self, node: ast.Expr, scope: Scope) -> dict[str, Any]:
        return self.coerce(node, self.translate(node, scope), BOOLEAN)

    # ------------------------------------------------------------------ selectors
