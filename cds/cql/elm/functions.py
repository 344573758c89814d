"""System functions, typed and written as ELM: the calls that are not one System operator of
the same name — ``Coalesce`` (``T, T...`` or a list), ``Skip``/``Take``/``Tail``/``Slice`` (as
``Slice``), the Patient-context age functions (``CalculateAge[At]``) — and ``flatten`` of a list
of single values under list promotion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cds.cql.elm import shapes
from cds.cql.elm.typed import Scope, Typed
from cds.cql.syntax import ast
from cds.cql.types.signatures import signatures
from cds.cql.types.specifiers import INTEGER, ListType

if TYPE_CHECKING:
    from cds.cql.elm.translator import ExpressionTranslator

#: The age functions of the Patient context → their ELM precision.
AGES = {
    f"AgeIn{unit}s{at}": unit
    for unit in ("Year", "Month", "Week", "Day", "Hour", "Minute", "Second")
    for at in ("", "At")
}


class SystemFunctionTranslator:
    """The System-function parts of :class:`~cds.cql.elm.translator.ExpressionTranslator`."""

    def __init__(self, translator: ExpressionTranslator) -> None:
        self.t = translator

    def flatten_promoted(self, node: ast.Node, args: list[Typed]) -> Typed:
        """``flatten`` of a list of single values, with list promotion: each element promoted
        to a list (``X`` → ``{X}``), as the reference translator writes it."""
        (source,) = args
        if not isinstance(source.type, ListType) or isinstance(source.type.element, ListType):
            raise self.t.type_error(node, f"no Flatten operator for ({source.type})")
        row = {"type": "AliasRef", "name": "X"}
        promoted = {
            "type": "Query",
            "source": [{"alias": "X", "expression": source.elm}],
            "return": {"distinct": False, "expression": {"type": "ToList", "operand": row}},
        }
        return Typed({"type": "Flatten", "operand": promoted}, source.type)

    def system_call(self, node: ast.Call, args: list[Typed]) -> Typed:
        name = node.name
        if name in ("Now", "Today", "TimeOfDay") and not args:
            return self.t.call_operator(node, name, [])
        if name == "Coalesce":
            return self.coalesce(node, args)
        if name in AGES:
            return self.age(node, name, args)
        if name == "Skip" and len(args) == 2:
            found = self.t.call_operator(node, "Skip", args)
            found.elm = shapes.operator("Slice", [*self._operands(found.elm), {"type": "Null"}])
            return found
        if name == "Take" and len(args) == 2:
            found = self.t.call_operator(node, "Take", args)
            source, count = self._operands(found.elm)
            zero = shapes.literal(INTEGER, "0")
            end = {"type": "Coalesce", "operand": [count, zero]}
            found.elm = shapes.operator("Slice", [source, zero, end])
            return found
        if name == "Slice" and len(args) < 3:  # the optional bounds: a null start or end is open
            found = self.t.call_operator(node, "Slice", args)
            found.elm.setdefault("startIndex", {"type": "Null"})
            found.elm.setdefault("endIndex", {"type": "Null"})
            return found
        if name == "Tail" and len(args) == 1:
            found = self.t.call_operator(node, "Tail", args)
            one = shapes.literal(INTEGER, "1")
            found.elm = shapes.operator("Slice", [found.elm["operand"][0], one, {"type": "Null"}])
            return found
        if not signatures(name):
            raise self.t.cannot(node, f"the function {name!r}")
        return self.t.call_operator(node, name, args)

    def age(self, node: ast.Call, name: str, args: list[Typed]) -> Typed:
        """``AgeInYears()``, ``AgeInMonthsAt(x)``...: ``CalculateAge[At]`` of the birth date of
        whatever ``Patient`` names here (the Patient context's definition, or a parameter so
        named), as the reference translator writes it (the model info's
        ``patientBirthDatePropertyName``, ``birthDate.value``)."""
        patient = self.t._Identifier(ast.Identifier(node.line, node.column, "Patient"), Scope())
        birth_date = self.t.element_type(node, self.t.element_type(node, patient.type, "birthDate"), "value")
        birth = Typed({"type": "Property", "path": "birthDate.value", "source": patient.elm}, birth_date)
        precision = AGES[name]
        if not name.endswith("At"):
            if args:
                raise self.t.type_error(node, f"{name}() takes no argument")
            found = self.t.call_operator(node, "CalculateAge", [birth], precision=precision)
            return found
        return self.t.call_operator(node, "CalculateAgeAt", [birth, *args], precision=precision)

    @staticmethod
    def _operands(elm: dict[str, Any]) -> list[dict[str, Any]]:
        operands: list[dict[str, Any]] = elm["operand"]
        return operands

    def coalesce(self, node: ast.Node, args: list[Typed]) -> Typed:
        """``Coalesce`` of one list or of values of one type (``T, T...``; no choice of
        different types: ``Coalesce('a', {'b'})`` needs list demotion, as in the reference)."""
        return self.t.call_operator(node, "Coalesce", args)
