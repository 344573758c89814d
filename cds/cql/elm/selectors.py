"""Selectors and conditionals, typed and written as ELM: list, interval, tuple, instance, code
and concept selectors; ``if`` and ``case`` (branches converted to their common type, ``null``
typed with ``As``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cds.cql.elm.typed import Scope, Typed
from cds.cql.syntax import ast
from cds.cql.types.conversions import common_type
from cds.cql.types.specifiers import (
    ANY,
    CODE,
    CODESYSTEM,
    CONCEPT,
    CqlType,
    IntervalType,
    ListType,
    NamedType,
    TupleType,
    elm_name,
)

if TYPE_CHECKING:
    from cds.cql.elm.translator import ExpressionTranslator


class SelectorTranslator:
    """The selector and conditional parts of :class:`~cds.cql.elm.translator.ExpressionTranslator`."""

    def __init__(self, translator: ExpressionTranslator) -> None:
        self.t = translator

    def _If(self, node: ast.If, scope: Scope) -> Typed:
        condition = self.t.condition(node.condition, scope)
        then, otherwise = self.t.translate(node.then, scope), self.t.translate(node.otherwise, scope)
        t = common_type(then.type, otherwise.type)
        elm = {
            "type": "If",
            "condition": condition,
            "then": self.t.coerce(node.then, then, t),
            "else": self.t.coerce(node.otherwise, otherwise, t),
        }
        return Typed(elm, t)

    def _Case(self, node: ast.Case, scope: Scope) -> Typed:
        comparand = self.t.translate(node.comparand, scope) if node.comparand is not None else None
        items = []
        result: CqlType | None = None
        for when, then in node.items:
            typed_then = self.t.translate(then, scope)
            result = typed_then.type if result is None else common_type(result, typed_then.type)
            if comparand is None:
                items.append((self.t.condition(when, scope), then, typed_then))
            else:
                typed_when = self.t.translate(when, scope)
                key = common_type(comparand.type, typed_when.type)
                items.append((self.t.coerce(when, typed_when, key), then, typed_then))
        otherwise = self.t.translate(node.otherwise, scope)
        assert result is not None
        result = common_type(result, otherwise.type)
        elm: dict[str, Any] = {"type": "Case"}
        if comparand is not None:
            elm["comparand"] = comparand.elm
        elm["caseItem"] = [
            {"when": when_elm, "then": self.t.coerce(then, typed, result)} for when_elm, then, typed in items
        ]
        elm["else"] = self.t.coerce(node.otherwise, otherwise, result)
        return Typed(elm, result)

    def _ListSelector(self, node: ast.ListSelector, scope: Scope) -> Typed:
        items = [self.t.translate(i, scope) for i in node.items]
        element: CqlType | None = self.t.type_spec(node.element_type) if node.element_type else None
        if element is None:
            for item in items:
                element = item.type if element is None else common_type(element, item.type)
        if element is None:
            element = ANY
        elm: dict[str, Any] = {"type": "List"}
        elm["element"] = [self.t.coerce(i, t, element) for i, t in zip(node.items, items, strict=True)]
        return Typed(elm, ListType(element))

    def _IntervalSelector(self, node: ast.IntervalSelector, scope: Scope) -> Typed:
        low, high = self.t.translate(node.low, scope), self.t.translate(node.high, scope)
        point = common_type(low.type, high.type)
        elm = {
            "type": "Interval",
            "lowClosed": node.low_closed,
            "highClosed": node.high_closed,
            "low": self.t.coerce(node.low, low, point),
            "high": self.t.coerce(node.high, high, point),
        }
        return Typed(elm, IntervalType(point))

    def _TupleSelector(self, node: ast.TupleSelector, scope: Scope) -> Typed:
        elements = [(name, self.t.translate(e, scope)) for name, e in node.elements]
        elm = {"type": "Tuple", "element": [{"name": n, "value": t.elm} for n, t in elements]}
        return Typed(elm, TupleType(tuple((n, t.type) for n, t in elements)))

    def _InstanceSelector(self, node: ast.InstanceSelector, scope: Scope) -> Typed:
        t = self.t.type_spec(node.type_spec)
        assert isinstance(t, NamedType)
        out = []
        for name, e in node.elements:
            value = self.t.translate(e, scope)
            expected = self.t.element_type(e, t, name)
            out.append({"name": name, "value": self.t.coerce(e, value, expected)})
        return Typed({"type": "Instance", "classType": elm_name(t), "element": out}, t)

    def _CodeSelector(self, node: ast.CodeSelector, scope: Scope) -> Typed:
        system_ref = self.t.translate(node.system, scope)
        if system_ref.type != CODESYSTEM:
            raise self.t.type_error(node, "a code's system must be a code system")
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
