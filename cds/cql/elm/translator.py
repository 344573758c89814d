"""The typed walk of CQL expressions: each AST node → (ELM JSON node, static CQL type).

Identifiers, properties, function calls and System operators are resolved here with the CQL
type-resolution rules of :mod:`cds.cql.types`: overloads by conversion score, implicit
conversions written out (``FHIRHelpers.ToString`` as a ``FunctionRef``, ``ToDecimal``, ...),
``null`` typed by its context (``As``). Ill-typed expressions raise
:class:`~cds.cql.types.errors.CqlTypeError`; constructs not covered raise
:class:`~cds.cql.types.errors.CannotType` — both with the position. Queries, retrieves and
timing phrases are in :mod:`cds.cql.elm.queries`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cds.cql.elm import shapes
from cds.cql.elm.queries import QueryTranslator
from cds.cql.errors import SourceLocation
from cds.cql.syntax import ast
from cds.cql.types import model_info
from cds.cql.types.conversions import Conversion, common_type, convert
from cds.cql.types.errors import CannotType, CqlTypeError
from cds.cql.types.overloads import resolve
from cds.cql.types.signatures import Signature, signatures
from cds.cql.types.specifiers import (
    ANY,
    BOOLEAN,
    CODE,
    CODESYSTEM,
    CONCEPT,
    DECIMAL,
    INTEGER,
    LONG,
    NULL,
    QUANTITY,
    RATIO,
    STRING,
    VALUESET,
    ChoiceType,
    CqlType,
    IntervalType,
    ListType,
    NamedType,
    TupleType,
    elm_name,
    system,
    to_elm,
)

if TYPE_CHECKING:
    from cds.cql.elm.library import LibraryTranslator


@dataclass(slots=True)
class Typed:
    elm: dict[str, Any]
    type: CqlType


@dataclass(frozen=True, slots=True)
class Local:
    kind: str  # 'alias', 'let', 'operand'
    type: CqlType


@dataclass(frozen=True)
class Scope:
    locals: dict[str, Local] = field(default_factory=dict)
    sort_row: CqlType | None = None  # inside `sort by`: identifiers are the row's elements

    def with_locals(self, **names: Local) -> Scope:
        return Scope({**self.locals, **names}, self.sort_row)


BINARY = {
    "+": "Add", "-": "Subtract", "*": "Multiply", "/": "Divide", "div": "TruncatedDivide",
    "mod": "Modulo", "^": "Power", "=": "Equal", "~": "Equivalent", "<": "Less",
    "<=": "LessOrEqual", ">": "Greater", ">=": "GreaterOrEqual", "and": "And", "or": "Or",
    "xor": "Xor", "implies": "Implies", "in": "In", "contains": "Contains", "union": "Union",
    "intersect": "Intersect", "except": "Except",
}  # fmt: skip
UNARY = {
    "not": "Not", "exists": "Exists", "negate": "Negate", "distinct": "Distinct",
    "flatten": "Flatten", "singleton": "SingletonFrom", "point": "PointFrom", "start": "Start",
    "end": "End", "width": "Width", "size": "Size", "successor": "Successor",
    "predecessor": "Predecessor", "is null": "IsNull", "is true": "IsTrue", "is false": "IsFalse",
    "date": "DateFrom", "time": "TimeFrom", "timezoneoffset": "TimezoneOffsetFrom",
}  # fmt: skip
RENAMED_FUNCTIONS = {"IsNull": "IsNull"}
SYSTEM_CLASS_ELEMENTS: dict[str, dict[str, CqlType]] = {
    "System.Quantity": {"value": DECIMAL, "unit": STRING},
    "System.Ratio": {"numerator": QUANTITY, "denominator": QUANTITY},
    "System.Code": {"code": STRING, "system": STRING, "version": STRING, "display": STRING},
    "System.Concept": {"codes": ListType(CODE), "display": STRING},
    "System.ValueSet": {"id": STRING, "version": STRING, "name": STRING},
    "System.CodeSystem": {"id": STRING, "version": STRING, "name": STRING},
}
CONVERT_OPERATORS = {
    "System.Boolean": "ToBoolean", "System.Integer": "ToInteger", "System.Long": "ToLong",
    "System.Decimal": "ToDecimal", "System.String": "ToString", "System.Quantity": "ToQuantity",
    "System.Ratio": "ToRatio", "System.Date": "ToDate", "System.DateTime": "ToDateTime",
    "System.Time": "ToTime", "System.Concept": "ToConcept",
}  # fmt: skip


class ExpressionTranslator:
    def __init__(self, library: LibraryTranslator) -> None:
        self.lib = library
        self.queries = QueryTranslator(self)

    def _Retrieve(self, node: ast.Retrieve, scope: Scope) -> Typed:
        return self.queries.retrieve(node, scope)

    def _Query(self, node: ast.Query, scope: Scope) -> Typed:
        return self.queries.query(node, scope)

    def _Timing(self, node: ast.Timing, scope: Scope) -> Typed:
        return self.queries.timing(node, scope)

    # ------------------------------------------------------------------ errors and helpers
    def where(self, node: ast.Node) -> SourceLocation:
        return SourceLocation(self.lib.name, node.line, node.column)

    def type_error(self, node: ast.Node, message: str) -> CqlTypeError:
        return CqlTypeError(message, self.where(node))

    def cannot(self, node: ast.Node, what: str) -> CannotType:
        return CannotType(f"cannot type {what}", self.where(node))

    def translate(self, node: ast.Expr, scope: Scope) -> Typed:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise self.cannot(node, f"{type(node).__name__} expressions")
        result: Typed = method(node, scope)
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
        if kind == "interval":  # null bounds typed as the target's point type
            if elm.get("type") != "Interval":
                return elm
            inner = conversion.inner
            return {
                **elm,
                "low": self.apply(node, elm["low"], inner),
                "high": self.apply(node, elm["high"], inner),
            }
        row = {"type": "AliasRef", "name": "X"}
        return {
            "type": "Query",
            "source": [{"alias": "X", "expression": elm}],
            "return": {"distinct": False, "expression": self.apply(node, row, conversion.inner)},
        }

    def coerce(self, node: ast.Node, typed: Typed, target: CqlType) -> dict[str, Any]:
        conversion = convert(typed.type, target)
        if conversion is None and self.lib.list_promotion and isinstance(target, ListType):
            inner = convert(typed.type, target.element)
            if inner is not None:  # list promotion (an option, off by default as in the reference)
                return {"type": "ToList", "operand": self.apply(node, typed.elm, inner)}
        if conversion is None:
            raise self.type_error(node, f"expected {target}, found {typed.type}")
        return self.apply(node, typed.elm, conversion)

    def call_operator(self, node: ast.Node, name: str, args: list[Typed], **extra: Any) -> Typed:
        """System operator ``name`` on ``args``: overload resolution, conversions, the node."""
        candidates = signatures(name)
        if not candidates:
            raise self.cannot(node, f"the System operator {name}")
        found = resolve(candidates, [a.type for a in args])
        if found is None:
            types = ", ".join(str(a.type) for a in args)
            raise self.type_error(node, f"no {name} operator for ({types})")
        operands = [self.apply(node, a.elm, c) for a, c in zip(args, found.conversions, strict=True)]
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
        elm = {
            "type": "Ratio",
            "numerator": self.quantity(node.numerator),
            "denominator": self.quantity(node.denominator),
        }
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
        """The type of property ``name`` of a ``source`` value (not a list)."""
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
        if library is not None:
            assert isinstance(node.source, ast.Identifier)
            return self.function_call(node, library, node.source.name, typed)
        if self.lib.functions(node.name):
            return self.function_call(node, self.lib, None, typed)
        return self.system_call(node, typed)

    def function_call(self, node: ast.Call, library: Any, alias: str | None, args: list[Typed]) -> Typed:
        functions = library.functions(node.name)
        if not functions:
            raise self.type_error(node, f"unknown function {node.name!r}")
        candidates = [Signature(f.operands, ANY) for f in functions]
        found = resolve(candidates, [a.type for a in args])
        if found is None:
            types = ", ".join(str(a.type) for a in args)
            raise self.type_error(node, f"no function {node.name}({types})")
        operands = [self.apply(node, a.elm, c) for a, c in zip(args, found.conversions, strict=True)]
        elm: dict[str, Any] = {"type": "FunctionRef", "name": node.name}
        if alias:
            elm["libraryName"] = alias
        elm["operand"] = operands
        return Typed(elm, library.function_result(functions[found.index], node))

    def system_call(self, node: ast.Call, args: list[Typed]) -> Typed:
        name = node.name
        if name in ("Now", "Today", "TimeOfDay") and not args:
            return self.call_operator(node, name, [])
        if name == "Coalesce":
            return self.coalesce(node, args)
        if name == "Skip" and len(args) == 2:
            found = self.call_operator(node, "Skip", args)
            found.elm = shapes.operator("Slice", [*self._operands(found.elm), {"type": "Null"}])
            return found
        if name == "Take" and len(args) == 2:
            found = self.call_operator(node, "Take", args)
            source, count = self._operands(found.elm)
            zero = shapes.literal(INTEGER, "0")
            end = {"type": "Coalesce", "operand": [count, zero]}
            found.elm = shapes.operator("Slice", [source, zero, end])
            return found
        if name == "Tail" and len(args) == 1:
            found = self.call_operator(node, "Tail", args)
            one = shapes.literal(INTEGER, "1")
            found.elm = shapes.operator("Slice", [found.elm["operand"][0], one, {"type": "Null"}])
            return found
        if not signatures(name):
            raise self.cannot(node, f"the function {name!r}")
        return self.call_operator(node, name, args)

    @staticmethod
    def _operands(elm: dict[str, Any]) -> list[dict[str, Any]]:
        operands: list[dict[str, Any]] = elm["operand"]
        return operands

    def coalesce(self, node: ast.Node, args: list[Typed]) -> Typed:
        if len(args) == 1:
            return self.call_operator(node, "Coalesce", args)
        result: CqlType = args[0].type
        for a in args[1:]:
            result = common_type(result, a.type)
        operands = [self.coerce(node, a, result) for a in args]
        return Typed({"type": "Coalesce", "operand": operands}, result)

    # ------------------------------------------------------------------ operators
    def _Unary(self, node: ast.Unary, scope: Scope) -> Typed:
        op = node.op
        if op in ("minimum", "maximum"):
            if node.type_spec is None:
                raise self.cannot(node, op)
            t = self.type_spec(node.type_spec)
            if not isinstance(t, NamedType):
                raise self.type_error(node, f"{op} of {t}")
            return Typed({"type": "MinValue" if op == "minimum" else "MaxValue", "valueType": elm_name(t)}, t)
        assert node.operand is not None
        operand = self.translate(node.operand, scope)
        if op == "plus":
            return operand
        if op.startswith("is not "):
            inner = self.call_operator(node, UNARY["is " + op[len("is not ") :]], [operand])
            return Typed({"type": "Not", "operand": inner.elm}, BOOLEAN)
        if op.startswith("component:"):
            precision = op.split(":", 1)[1].capitalize()
            if operand.type not in (system("DateTime"), system("Date"), system("Time")):
                operand = Typed(self.coerce(node, operand, system("DateTime")), system("DateTime"))
            elm = {"type": "DateTimeComponentFrom", "operand": operand.elm, "precision": precision}
            return Typed(elm, DECIMAL if precision == "Timezoneoffset" else INTEGER)
        if op in ("collapse", "expand"):
            per = self.translate(node.per, scope) if node.per is not None else None
            if per is None:
                per = Typed(shapes.null_as(QUANTITY, {"type": "Null"}), QUANTITY)
            return self.call_operator(node, op.capitalize(), [operand, per])
        if op.startswith(("duration:", "difference:")):
            which, precision = op.split(":", 1)
            start = self.call_operator(node, "Start", [operand])
            end = self.call_operator(node, "End", [operand])
            if start.type not in (system("Date"), system("DateTime"), system("Time")):
                raise self.type_error(node, f"{which} of {operand.type}")
            between = "DurationBetween" if which == "duration" else "DifferenceBetween"
            duration = {"type": between, "precision": precision.capitalize(), "operand": [start.elm, end.elm]}
            return Typed(duration, INTEGER)
        name = UNARY.get(op)
        if name is None:
            raise self.cannot(node, f"the {op!r} operator")
        return self.call_operator(node, name, [operand])

    def _Binary(self, node: ast.Binary, scope: Scope) -> Typed:
        op = node.op
        if op in ("!=", "!~"):
            positive = ast.Binary(node.line, node.column, "=" if op == "!=" else "~", node.left, node.right)
            return Typed({"type": "Not", "operand": self._Binary(positive, scope).elm}, BOOLEAN)
        left = self.translate(node.left, scope)
        right = self.translate(node.right, scope)
        if op == "&":
            empty = shapes.literal(STRING, "")
            operands = [
                {"type": "Coalesce", "operand": [self.coerce(node, side, STRING), empty]}
                for side in (left, right)
            ]
            return Typed({"type": "Concatenate", "operand": operands}, STRING)
        if op == "in" and right.type in (VALUESET, CODESYSTEM):
            return self.terminology_membership(node, left, right)
        if node.precision is not None:
            raise self.cannot(node, f"{op!r} with a precision")
        name = BINARY.get(op)
        if name is None:
            raise self.cannot(node, f"the {op!r} operator")
        if resolve(signatures(name), [left.type, right.type]) is None:
            if name == "Add" and resolve(signatures("Concatenate"), [left.type, right.type]) is not None:
                return self.call_operator(node, "Concatenate", [left, right])
            raise self.type_error(node, f"no operator {op} for ({left.type}, {right.type})")
        return self.call_operator(node, name, [left, right])

    def terminology_membership(self, node: ast.Node, code: Typed, vocabulary: Typed) -> Typed:
        ref = {k: v for k, v in vocabulary.elm.items() if k != "type"}
        is_valueset = vocabulary.type == VALUESET
        if isinstance(code.type, ListType):
            name = "AnyInValueSet" if is_valueset else "AnyInCodeSystem"
            found = self.call_operator(node, "AnyInValueSet", [code])
            codes = found.elm["operand"][0]
            field = "valueset" if is_valueset else "codesystem"
            return Typed({"type": name, "codes": codes, field: ref}, BOOLEAN)
        found = self.call_operator(node, "InValueSet", [code])
        name = "InValueSet" if is_valueset else "InCodeSystem"
        field = "valueset" if is_valueset else "codesystem"
        return Typed({"type": name, "code": found.elm["operand"][0], field: ref}, BOOLEAN)

    def _TypeOp(self, node: ast.TypeOp, scope: Scope) -> Typed:
        operand = self.translate(node.operand, scope)
        t = self.type_spec(node.type_spec)
        if node.op == "is":
            return Typed({"type": "Is", "operand": operand.elm, "isTypeSpecifier": to_elm(t)}, BOOLEAN)
        elm = {
            "type": "As",
            "strict": node.op == "cast",
            "operand": operand.elm,
            "asTypeSpecifier": to_elm(t),
        }
        return Typed(elm, t)

    def _Convert(self, node: ast.Convert, scope: Scope) -> Typed:
        operand = self.translate(node.operand, scope)
        if node.unit is not None:
            unit = shapes.literal(STRING, node.unit)
            elm = {"type": "ConvertQuantity", "operand": [self.coerce(node, operand, QUANTITY), unit]}
            return Typed(elm, QUANTITY)
        assert node.type_spec is not None
        t = self.type_spec(node.type_spec)
        name = CONVERT_OPERATORS.get(str(t))
        if name is None:
            raise self.cannot(node, f"convert to {t}")
        return self.call_operator(node, name, [operand])

    def _Index(self, node: ast.Index, scope: Scope) -> Typed:
        return self.call_operator(
            node, "Indexer", [self.translate(node.source, scope), self.translate(node.index, scope)]
        )

    def _Between(self, node: ast.Between, scope: Scope) -> Typed:
        operand = self.translate(node.operand, scope)
        low = self.call_operator(
            node, "Greater" if node.proper else "GreaterOrEqual", [operand, self.translate(node.low, scope)]
        )
        high = self.call_operator(
            node, "Less" if node.proper else "LessOrEqual", [operand, self.translate(node.high, scope)]
        )
        return Typed({"type": "And", "operand": [low.elm, high.elm]}, BOOLEAN)

    def _DurationBetween(self, node: ast.DurationBetween, scope: Scope) -> Typed:
        low, high = self.translate(node.low, scope), self.translate(node.high, scope)
        name = "DurationBetween" if node.kind == "duration" else "DifferenceBetween"
        point = common_type(low.type, high.type)
        if point not in (system("Date"), system("DateTime"), system("Time")):
            raise self.type_error(node, f"{name} of {low.type} and {high.type}")
        operands = [self.coerce(node, low, point), self.coerce(node, high, point)]
        elm = {"type": name, "precision": node.precision.capitalize(), "operand": operands}
        return Typed(elm, INTEGER)

    # ------------------------------------------------------------------ conditionals
    def condition(self, node: ast.Expr, scope: Scope) -> dict[str, Any]:
        return self.coerce(node, self.translate(node, scope), BOOLEAN)

    def _If(self, node: ast.If, scope: Scope) -> Typed:
        condition = self.condition(node.condition, scope)
        then, otherwise = self.translate(node.then, scope), self.translate(node.otherwise, scope)
        t = common_type(then.type, otherwise.type)
        elm = {
            "type": "If",
            "condition": condition,
            "then": self.coerce(node.then, then, t),
            "else": self.coerce(node.otherwise, otherwise, t),
        }
        return Typed(elm, t)

    def _Case(self, node: ast.Case, scope: Scope) -> Typed:
        comparand = self.translate(node.comparand, scope) if node.comparand is not None else None
        items = []
        result: CqlType | None = None
        for when, then in node.items:
            typed_then = self.translate(then, scope)
            result = typed_then.type if result is None else common_type(result, typed_then.type)
            if comparand is None:
                items.append((self.condition(when, scope), then, typed_then))
            else:
                typed_when = self.translate(when, scope)
                key = common_type(comparand.type, typed_when.type)
                items.append((self.coerce(when, typed_when, key), then, typed_then))
        otherwise = self.translate(node.otherwise, scope)
        assert result is not None
        result = common_type(result, otherwise.type)
        elm: dict[str, Any] = {"type": "Case"}
        if comparand is not None:
            elm["comparand"] = comparand.elm
        elm["caseItem"] = [
            {"when": when_elm, "then": self.coerce(then, typed, result)} for when_elm, then, typed in items
        ]
        elm["else"] = self.coerce(node.otherwise, otherwise, result)
        return Typed(elm, result)

    # ------------------------------------------------------------------ selectors
    def _ListSelector(self, node: ast.ListSelector, scope: Scope) -> Typed:
        items = [self.translate(i, scope) for i in node.items]
        element: CqlType | None = self.type_spec(node.element_type) if node.element_type else None
        if element is None:
            for item in items:
                element = item.type if element is None else common_type(element, item.type)
        if element is None:
            element = ANY
        elm: dict[str, Any] = {"type": "List"}
        elm["element"] = [self.coerce(i, t, element) for i, t in zip(node.items, items, strict=True)]
        return Typed(elm, ListType(element))

    def _IntervalSelector(self, node: ast.IntervalSelector, scope: Scope) -> Typed:
        low, high = self.translate(node.low, scope), self.translate(node.high, scope)
        point = common_type(low.type, high.type)
        elm = {
            "type": "Interval",
            "lowClosed": node.low_closed,
            "highClosed": node.high_closed,
            "low": self.coerce(node.low, low, point),
            "high": self.coerce(node.high, high, point),
        }
        return Typed(elm, IntervalType(point))

    def _TupleSelector(self, node: ast.TupleSelector, scope: Scope) -> Typed:
        elements = [(name, self.translate(e, scope)) for name, e in node.elements]
        elm = {"type": "Tuple", "element": [{"name": n, "value": t.elm} for n, t in elements]}
        return Typed(elm, TupleType(tuple((n, t.type) for n, t in elements)))

    def _InstanceSelector(self, node: ast.InstanceSelector, scope: Scope) -> Typed:
        t = self.type_spec(node.type_spec)
        assert isinstance(t, NamedType)
        out = []
        for name, e in node.elements:
            value = self.translate(e, scope)
            expected = self.element_type(e, t, name)
            out.append({"name": name, "value": self.coerce(e, value, expected)})
        return Typed({"type": "Instance", "classType": elm_name(t), "element": out}, t)

    def _CodeSelector(self, node: ast.CodeSelector, scope: Scope) -> Typed:
        system_ref = self.translate(node.system, scope)
        if system_ref.type != CODESYSTEM:
            raise self.type_error(node, "a code's system must be a code system")
        elm: dict[str, Any] = {"type": "Code", "code": node.code, "system": {"name": system_ref.elm["name"]}}
        if "libraryName" in system_ref.elm:
            elm["system"]["libraryName"] = system_ref.elm["libraryName"]
        if node.display is not None:
            elm["display"] = node.display
        return Typed(elm, CODE)

    def _ConceptSelector(self, node: ast.ConceptSelector, scope: Scope) -> Typed:
        codes = [self._CodeSelector(c, scope).elm for c in node.codes]
        elm: dict[str, Any] = {"type": "Concept", "code": codes}
        if node.display is not None:
            elm["display"] = node.display
        return Typed(elm, CONCEPT)

    def choice_error(self, node: ast.Node, t: CqlType) -> None:
        if isinstance(t, ChoiceType):
            raise self.cannot(node, f"an operation on a choice type {t}")
