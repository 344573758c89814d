"""Operators, typed and written as ELM: unary and binary operators (by ELM name, overloads
resolved; ``!=``/``!~`` as ``Not``; ``&`` with ``Coalesce`` to ''; String ``+`` as
``Concatenate``), terminology membership (``InValueSet``/``AnyInValueSet``/``InCodeSystem``),
``is``/``as``/``cast``, ``convert``, indexers, ``between`` and ``duration``/``difference``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cds.cql.elm import shapes
from cds.cql.elm.typed import Scope, Typed
from cds.cql.syntax import ast
from cds.cql.types.conversions import common_type
from cds.cql.types.signatures import signatures
from cds.cql.types.specifiers import (
    BOOLEAN,
    CODESYSTEM,
    DECIMAL,
    INTEGER,
    QUANTITY,
    STRING,
    VALUESET,
    ChoiceType,
    ListType,
    NamedType,
    choice_of,
    elm_name,
    system,
    to_elm,
)

if TYPE_CHECKING:
    from cds.cql.elm.translator import ExpressionTranslator

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

CONVERT_OPERATORS = {
    "System.Boolean": "ToBoolean", "System.Integer": "ToInteger", "System.Long": "ToLong",
    "System.Decimal": "ToDecimal", "System.String": "ToString", "System.Quantity": "ToQuantity",
    "System.Ratio": "ToRatio", "System.Date": "ToDate", "System.DateTime": "ToDateTime",
    "System.Time": "ToTime", "System.Concept": "ToConcept",
}  # fmt: skip


class OperatorTranslator:
    """The operator parts of :class:`~cds.cql.elm.translator.ExpressionTranslator`."""

    def __init__(self, translator: ExpressionTranslator) -> None:
        self.t = translator

    def _Unary(self, node: ast.Unary, scope: Scope) -> Typed:
        op = node.op
        if op in ("minimum", "maximum"):
            if node.type_spec is None:
                raise self.t.cannot(node, op)
            t = self.t.type_spec(node.type_spec)
            if not isinstance(t, NamedType):
                raise self.t.type_error(node, f"{op} of {t}")
            return Typed({"type": "MinValue" if op == "minimum" else "MaxValue", "valueType": elm_name(t)}, t)
        assert node.operand is not None
        operand = self.t.translate(node.operand, scope)
        if op == "plus":
            return operand
        if op.startswith("is not "):
            inner = self.t.call_operator(node, UNARY["is " + op[len("is not ") :]], [operand])
            return Typed({"type": "Not", "operand": inner.elm}, BOOLEAN)
        if op.startswith("component:"):
            precision = op.split(":", 1)[1].capitalize()
            if operand.type not in (system("DateTime"), system("Date"), system("Time")):
                operand = Typed(self.t.coerce(node, operand, system("DateTime")), system("DateTime"))
            elm = {"type": "DateTimeComponentFrom", "operand": operand.elm, "precision": precision}
            return Typed(elm, DECIMAL if precision == "Timezoneoffset" else INTEGER)
        if op in ("collapse", "expand"):
            per = self.t.translate(node.per, scope) if node.per is not None else None
            if per is None:
                per = Typed(shapes.null_as(QUANTITY, {"type": "Null"}), QUANTITY)
            return self.t.call_operator(node, op.capitalize(), [operand, per])
        if op.startswith(("duration:", "difference:")):
            which, precision = op.split(":", 1)
            start = self.t.call_operator(node, "Start", [operand])
            end = self.t.call_operator(node, "End", [operand])
            if start.type not in (system("Date"), system("DateTime"), system("Time")):
                raise self.t.type_error(node, f"{which} of {operand.type}")
            between = "DurationBetween" if which == "duration" else "DifferenceBetween"
            duration = {"type": between, "precision": precision.capitalize(), "operand": [start.elm, end.elm]}
            return Typed(duration, INTEGER)
        name = UNARY.get(op)
        if name is None:
            raise self.t.cannot(node, f"the {op!r} operator")
        return self.t.call_operator(node, name, [operand])

    def _Binary(self, node: ast.Binary, scope: Scope) -> Typed:
        op = node.op
        if op in ("!=", "!~"):
            positive = ast.Binary(node.line, node.column, "=" if op == "!=" else "~", node.left, node.right)
            return Typed({"type": "Not", "operand": self._Binary(positive, scope).elm}, BOOLEAN)
        left = self.t.translate(node.left, scope)
        right = self.t.translate(node.right, scope)
        if op == "&":
            empty = shapes.literal(STRING, "")
            operands = [
                {"type": "Coalesce", "operand": [self.t.coerce(node, side, STRING), empty]}
                for side in (left, right)
            ]
            return Typed({"type": "Concatenate", "operand": operands}, STRING)
        if op == "in" and right.type in (VALUESET, CODESYSTEM):
            return self.terminology_membership(node, left, right)
        if node.precision is not None:
            raise self.t.cannot(node, f"{op!r} with a precision")
        name = BINARY.get(op)
        if name is None:
            raise self.t.cannot(node, f"the {op!r} operator")
        if self.t.resolve(signatures(name), [left, right]) is None:
            if name == "Add" and self.t.resolve(signatures("Concatenate"), [left, right]) is not None:
                return self.t.call_operator(node, "Concatenate", [left, right])
            if name in ("Union", "Except", "Intersect") and all(
                isinstance(side.type, ListType) for side in (left, right)
            ):
                return self.set_of_choices(name, left, right)
            raise self.t.type_error(node, f"no operator {op} for ({left.type}, {right.type})")
        return self.t.call_operator(node, name, [left, right])

    @staticmethod
    def set_of_choices(name: str, left: Typed, right: Typed) -> Typed:
        """``union``/``except``/``intersect`` of lists of different types (``[Observation] union
        [Condition]``): on lists of the choice of their element types, each side cast to it, as
        the reference translator writes it."""
        assert isinstance(left.type, ListType) and isinstance(right.type, ListType)
        members = choice_of([left.type.element, right.type.element])
        if isinstance(members, ChoiceType):
            members = ChoiceType(tuple(sorted(members.choices, key=str)))
        t = ListType(members)
        operands = [
            {"type": "As", "strict": False, "operand": side.elm, "asTypeSpecifier": to_elm(t)}
            for side in (left, right)
        ]
        return Typed({"type": name, "operand": operands}, t)

    def terminology_membership(self, node: ast.Node, code: Typed, vocabulary: Typed) -> Typed:
        ref = {k: v for k, v in vocabulary.elm.items() if k != "type"}
        is_valueset = vocabulary.type == VALUESET
        if isinstance(code.type, ListType):
            name = "AnyInValueSet" if is_valueset else "AnyInCodeSystem"
            found = self.t.call_operator(node, "AnyInValueSet", [code])
            codes = found.elm["operand"][0]
            field = "valueset" if is_valueset else "codesystem"
            return Typed({"type": name, "codes": codes, field: ref}, BOOLEAN)
        found = self.t.call_operator(node, "InValueSet", [code])
        name = "InValueSet" if is_valueset else "InCodeSystem"
        field = "valueset" if is_valueset else "codesystem"
        return Typed({"type": name, "code": found.elm["operand"][0], field: ref}, BOOLEAN)

    def _TypeOp(self, node: ast.TypeOp, scope: Scope) -> Typed:
        operand = self.t.translate(node.operand, scope)
        t = self.t.type_spec(node.type_spec)
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
        operand = self.t.translate(node.operand, scope)
        if node.unit is not None:
            unit = shapes.literal(STRING, node.unit)
            elm = {"type": "ConvertQuantity", "operand": [self.t.coerce(node, operand, QUANTITY), unit]}
            return Typed(elm, QUANTITY)
        assert node.type_spec is not None
        t = self.t.type_spec(node.type_spec)
        name = CONVERT_OPERATORS.get(str(t))
        if name is None:
            raise self.t.cannot(node, f"convert to {t}")
        return self.t.call_operator(node, name, [operand])

    def _Index(self, node: ast.Index, scope: Scope) -> Typed:
        return self.t.call_operator(
            node, "Indexer", [self.t.translate(node.source, scope), self.t.translate(node.index, scope)]
        )

    def _Between(self, node: ast.Between, scope: Scope) -> Typed:
        operand = self.t.translate(node.operand, scope)
        low = self.t.call_operator(
            node, "Greater" if node.proper else "GreaterOrEqual", [operand, self.t.translate(node.low, scope)]
        )
        high = self.t.call_operator(
            node, "Less" if node.proper else "LessOrEqual", [operand, self.t.translate(node.high, scope)]
        )
        return Typed({"type": "And", "operand": [low.elm, high.elm]}, BOOLEAN)

    def _DurationBetween(self, node: ast.DurationBetween, scope: Scope) -> Typed:
        low, high = self.t.translate(node.low, scope), self.t.translate(node.high, scope)
        name = "DurationBetween" if node.kind == "duration" else "DifferenceBetween"
        point = common_type(low.type, high.type)
        if point not in (system("Date"), system("DateTime"), system("Time")):
            raise self.t.type_error(node, f"{name} of {low.type} and {high.type}")
        operands = [self.t.coerce(node, low, point), self.t.coerce(node, high, point)]
        elm = {"type": name, "precision": node.precision.capitalize(), "operand": operands}
        return Typed(elm, INTEGER)
