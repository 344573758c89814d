"""Retrieves, queries and timing phrases, typed and written as ELM.

A query's sources type its aliases (a list source gives its element type; a single source
makes the query a single value); ``let`` names, ``with``/``without`` relationships, ``where``
(Boolean), ``return`` (``distinct`` unless ``return all``), ``aggregate`` and ``sort``
(``ByColumn`` for a row element, ``ByExpression`` otherwise, ``ByDirection`` for the rows
themselves). Retrieves write ``dataType``, ``templateId``, ``codeProperty``, ``codeComparator``
and ``codes``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cds.cql.elm.typed import Local, Scope, Typed
from cds.cql.syntax import ast
from cds.cql.types import model_info
from cds.cql.types.specifiers import (
    BOOLEAN,
    CODE,
    CONCEPT,
    NULL,
    QUANTITY,
    VALUESET,
    CqlType,
    IntervalType,
    ListType,
    NamedType,
    TupleType,
    elm_name,
)

if TYPE_CHECKING:
    from cds.cql.elm.translator import ExpressionTranslator

TIMING_POINT = {"before": "Before", "after": "After"}
TIMING_SIMPLE = {
    "meets": "Meets", "meets before": "MeetsBefore", "meets after": "MeetsAfter",
    "overlaps": "Overlaps", "overlaps before": "OverlapsBefore", "overlaps after": "OverlapsAfter",
    "starts": "Starts", "ends": "Ends",
}  # fmt: skip


class QueryTranslator:
    """The query-shaped parts of :class:`~cds.cql.elm.translator.ExpressionTranslator`."""

    def __init__(self, translator: ExpressionTranslator) -> None:
        self.t = translator

    # ------------------------------------------------------------------ retrieve
    def _Retrieve(self, node: ast.Retrieve, scope: Scope) -> Typed:
        if node.context is not None:
            raise self.t.cannot(node, "context-qualified retrieves")
        t = self.t.type_spec(node.type_spec)
        if not isinstance(t, NamedType) or not model_info.is_retrievable(t):
            raise self.t.type_error(node, f"{t} is not retrievable")
        elm: dict[str, Any] = {
            "type": "Retrieve",
            "dataType": elm_name(t),
            "templateId": model_info.retrievable_template(t),
        }
        if node.terminology is not None:
            path = node.code_path or model_info.primary_code_path(t)
            if path is None:
                raise self.t.type_error(node, f"{t} has no primary code path")
            terminology = self.t.translate(node.terminology, scope)
            codes = terminology.elm
            if terminology.type == CODE:
                codes = {"type": "ToList", "operand": codes}
            elif terminology.type == CONCEPT:
                codes = {"type": "Property", "path": "codes", "source": codes}
            elif terminology.type != VALUESET and terminology.type != ListType(CODE):
                raise self.t.type_error(node, f"a retrieve's codes cannot be {terminology.type}")
            elm["codeProperty"] = path
            elm["codeComparator"] = node.comparator or ("in" if terminology.type == VALUESET else "~")
            elm["codes"] = codes
        return Typed(elm, ListType(t))

    # ------------------------------------------------------------------ query
    def _Query(self, node: ast.Query, scope: Scope) -> Typed:
        sources = []
        single = len(node.sources) == 1
        plural = False
        inner = scope
        for source in node.sources:
            typed = self.t.translate(source.source, scope)
            if isinstance(typed.type, ListType):
                element = typed.type.element
                plural = True
            else:
                element = typed.type
            sources.append({"alias": source.alias, "expression": typed.elm})
            inner = inner.with_locals(**{source.alias: Local("alias", element)})
        row_type: CqlType
        if single:
            row_type = inner.locals[node.sources[0].alias].type
        else:
            row_type = TupleType(tuple((s.alias, inner.locals[s.alias].type) for s in node.sources))
        elm: dict[str, Any] = {"type": "Query", "source": sources}
        if node.lets:
            lets = []
            for let in node.lets:
                value = self.t.translate(let.expression, inner)
                lets.append({"identifier": let.name, "expression": value.elm})
                inner = inner.with_locals(**{let.name: Local("let", value.type)})
            elm["let"] = lets
        if node.inclusions:
            elm["relationship"] = [self.relationship(i, inner) for i in node.inclusions]
        if node.where is not None:
            elm["where"] = self.t.condition(node.where, inner)
        result = row_type
        if node.aggregate is not None:
            return self.aggregate_clause(node, elm, inner, plural)
        if node.return_ is None and not single:
            # Rows of several sources are tuples of the aliases (written out, as the reference does).
            row = {
                "type": "Tuple",
                "element": [
                    {"name": a["alias"], "value": {"type": "AliasRef", "name": a["alias"]}} for a in sources
                ],
            }
            elm["return"] = {"distinct": True, "expression": row}
        if node.return_ is not None:
            value = self.t.translate(node.return_, inner)
            ret: dict[str, Any] = {"expression": value.elm}
            if node.return_all:
                ret = {"distinct": False, **ret}
            elm["return"] = ret
            result = value.type
        if node.sort is not None:
            elm["sort"] = {"by": [self.sort_item(item, inner, result) for item in node.sort]}
        return Typed(elm, ListType(result) if plural else result)

    def relationship(self, node: ast.Inclusion, scope: Scope) -> dict[str, Any]:
        source = self.t.translate(node.source.source, scope)
        element = source.type.element if isinstance(source.type, ListType) else source.type
        inner = scope.with_locals(**{node.source.alias: Local("alias", element)})
        return {
            "type": "With" if node.kind == "with" else "Without",
            "alias": node.source.alias,
            "expression": source.elm,
            "suchThat": self.t.condition(node.condition, inner),
        }

    def aggregate_clause(self, node: ast.Query, elm: dict[str, Any], scope: Scope, plural: bool) -> Typed:
        agg = node.aggregate
        assert agg is not None
        starting = self.t.translate(agg.starting, scope) if agg.starting is not None else None
        start_type = starting.type if starting is not None else NULL
        inner = scope.with_locals(**{agg.name: Local("let", start_type)})
        value = self.t.translate(agg.expression, inner)
        if value.type != start_type:  # the accumulator has the expression's type
            inner = scope.with_locals(**{agg.name: Local("let", value.type)})
            value = self.t.translate(agg.expression, inner)
        clause: dict[str, Any] = {"identifier": agg.name, "expression": value.elm}
        if agg.distinct:
            clause["distinct"] = True
        if starting is not None:
            clause["starting"] = self.t.coerce(agg, starting, value.type)
        elm["aggregate"] = clause
        return Typed(elm, value.type)

    def sort_item(self, item: ast.SortItem, scope: Scope, row: CqlType) -> dict[str, Any]:
        direction = "desc" if item.descending else "asc"
        if item.expression is None:
            return {"type": "ByDirection", "direction": direction}
        path = self.column_path(item.expression)
        if path is not None and path.split(".")[0] not in scope.locals:
            return {"type": "ByColumn", "direction": direction, "path": path}
        typed = self.t.translate(item.expression, Scope(scope.locals, row))
        return {"type": "ByExpression", "direction": direction, "expression": typed.elm}

    def offset_timing(self, node: ast.Timing, left: Typed, right: Typed) -> Typed:
        """``A 3 days [or less|or more] before B``, ``A less/more than 3 days after B``, ``A within 3
        days of B`` (CQL 1.5 §5.6 timing phrases), written as the reference translator does:
        comparisons and memberships against ``B ± 3 days``. An interval ``A`` is compared by its
        end (before) or start (after), an interval ``B`` by its start (before) or end (after)."""
        assert node.offset is not None
        kind = node.kind
        relation = node.offset_relation
        if kind not in ("before", "after", "within") or (
            node.inclusive and relation not in ("or less", "or more")
        ):
            raise self.t.cannot(node, f"the timing phrase {kind!r} with an offset")
        extra = {"precision": node.precision.capitalize()} if node.precision else {}
        if isinstance(left.type, IntervalType):
            left = self.t.call_operator(node, "Start" if kind == "after" else "End", [left])
        if isinstance(right.type, IntervalType):
            right = self.t.call_operator(node, "End" if kind == "after" else "Start", [right])
        quantity = Typed(self.t.quantity(node.offset), QUANTITY)
        low = self.t.call_operator(node, "Subtract", [right, quantity])
        high = self.t.call_operator(node, "Add", [right, quantity])
        not_null = {"type": "Not", "operand": {"type": "IsNull", "operand": right.elm}}

        def within(lo: Typed, hi: Typed, lo_closed: bool, hi_closed: bool, guard: bool) -> Typed:
            interval = Typed(
                {
                    "type": "Interval",
                    "lowClosed": lo_closed,
                    "highClosed": hi_closed,
                    "low": lo.elm,
                    "high": hi.elm,
                },
                IntervalType(lo.type),
            )
            member = self.t.call_operator(node, "In", [left, interval], **extra)
            if guard:
                return Typed({"type": "And", "operand": [member.elm, not_null]}, BOOLEAN)
            return member

        if kind == "within":
            return within(low, high, True, True, True)
        before = kind == "before"
        shifted = low if before else high
        if relation is None:
            return self.t.call_operator(node, "SameAs", [left, shifted], **extra)
        if relation == "or more":
            return self.t.call_operator(
                node, "SameOrBefore" if before else "SameOrAfter", [left, shifted], **extra
            )
        if relation == "more than":
            return self.t.call_operator(node, "Before" if before else "After", [left, shifted], **extra)
        if relation == "or less":  # `on or before/after` closes the bound at B
            closed = node.inclusive
            return (
                within(low, right, True, closed, True) if before else within(right, high, closed, True, True)
            )
        return within(low, right, False, False, False) if before else within(right, high, False, False, False)

    def point_interval(self, point: Typed) -> Typed:
        unit = {
            "type": "Interval",
            "lowClosed": True,
            "highClosed": True,
            "low": point.elm,
            "high": point.elm,
        }
        elm = {
            "type": "If",
            "condition": {"type": "IsNull", "operand": point.elm},
            "then": {"type": "Null"},
            "else": unit,
        }
        return Typed(elm, IntervalType(point.type))

    def column_path(self, node: ast.Expr) -> str | None:
        if isinstance(node, ast.Identifier):
            return node.name
        if isinstance(node, ast.Member):
            inner = self.column_path(node.source)
            return None if inner is None else f"{inner}.{node.name}"
        return None

    # ------------------------------------------------------------------ timing phrases
    def _Timing(self, node: ast.Timing, scope: Scope) -> Typed:
        left, right = self.t.translate(node.left, scope), self.t.translate(node.right, scope)
        if node.left_boundary in ("start", "end"):
            left = self.t.call_operator(node, "Start" if node.left_boundary == "start" else "End", [left])
        if node.right_boundary in ("start", "end"):
            right = self.t.call_operator(node, "Start" if node.right_boundary == "start" else "End", [right])
        if node.offset is not None:
            return self.offset_timing(node, left, right)
        kind = node.kind
        name: str | None
        if kind == "same":
            name = {None: "SameAs", "or before": "SameOrBefore", "or after": "SameOrAfter"}.get(node.relation)
        elif kind in TIMING_POINT:
            name = TIMING_POINT[kind]
            if node.inclusive:
                name = "SameOrBefore" if kind == "before" else "SameOrAfter"
        elif kind == "includes":
            whole = isinstance(right.type, (IntervalType, ListType))
            name = ("Proper" if node.proper else "") + ("Includes" if whole else "Contains")
        elif kind == "included in":
            whole = isinstance(left.type, (IntervalType, ListType))
            name = ("Proper" if node.proper else "") + ("IncludedIn" if whole else "In")
        else:
            name = TIMING_SIMPLE.get(kind)
        if name is None:
            raise self.t.cannot(node, f"the timing phrase {kind!r} here")
        if kind not in ("includes", "included in"):
            # A point beside an interval is promoted to the unit interval (as the reference does).
            if isinstance(left.type, IntervalType) and not isinstance(right.type, (IntervalType, ListType)):
                right = self.point_interval(right)
            elif isinstance(right.type, IntervalType) and not isinstance(left.type, (IntervalType, ListType)):
                left = self.point_interval(left)
        extra = {"precision": node.precision.capitalize()} if node.precision else {}
        found = self.t.call_operator(node, name, [left, right], **extra)
        return Typed(found.elm, BOOLEAN)
