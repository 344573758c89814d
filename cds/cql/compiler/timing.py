"""Timing phrases → ELM operators (the author's guide "Timing and Interval Operators").

``A starts 3 days or less before start of B`` becomes ``In(Start(A), Interval[Start(B) - 3 days,
Start(B)))``; ``A same day as B`` becomes ``SameAs(A, B, day)``; ``A during B`` ``IncludedIn``
(``In`` for a point) and so on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mypy_extensions import trait

from cds.cql.compiler.static import A_SYSTEM_VALUE, NONE, TO_SYSTEM
from cds.cql.compiler.values import system
from cds.cql.runtime.fhir import to_system
from cds.cql.runtime.interval import Interval
from cds.cql.runtime.quantity import Quantity
from cds.cql.syntax import ast
from cds.cql.types.specifiers import NamedType

if TYPE_CHECKING:
    from cds.cql.compiler.expressions import Fn
    from cds.cql.compiler.scope import Scope


@trait  # a part of ExpressionCompiler (mypyc compiles multiple inheritance from traits)
class TimingCompiler:
    def compile(self, node: ast.Expr, scope: Scope) -> Fn:
        raise NotImplementedError

    def call_op(
        self,
        node: ast.Node,
        name: str,
        args: list[Fn],
        *,
        operands: Sequence[ast.Node | NamedType | None] | None = None,
        **kwargs: Any,
    ) -> Fn:
        raise NotImplementedError

    def static_plan(self, node: ast.Node, operand: ast.Node, what: str) -> int:
        raise NotImplementedError

    def operator(self, node: ast.Node, name: str) -> Any:
        raise NotImplementedError

    def _boundary(self, node: ast.Node, fn: Fn, which: str | None, operand: ast.Node) -> Fn:
        if which is None:
            return fn
        return self.call_op(node, "Start" if which == "start" else "End", [fn], operands=[operand])

    def timing(self, node: ast.Timing, scope: Scope) -> Fn:
        left = self._boundary(node, self.compile(node.left, scope), node.left_boundary, node.left)
        right = self._boundary(node, self.compile(node.right, scope), node.right_boundary, node.right)
        # The operands' static types (a boundary is a System value: Start/End's result).
        sides = [
            A_SYSTEM_VALUE if node.left_boundary is not None else node.left,
            A_SYSTEM_VALUE if node.right_boundary is not None else node.right,
        ]
        kind, precision = node.kind, node.precision
        extra: dict[str, Any] = {"precision": precision, "operands": sides}
        if kind == "same":
            name = {None: "SameAs", "or before": "SameOrBefore", "or after": "SameOrAfter"}[node.relation]
            return self.call_op(node, name, [left, right], **extra)
        if kind == "includes":
            return self.call_op(node, "ProperIncludes" if node.proper else "Includes", [left, right], **extra)
        if kind == "included in":
            return self.call_op(
                node, "ProperIncludedIn" if node.proper else "IncludedIn", [left, right], **extra
            )
        if kind in ("meets", "meets before", "meets after", "overlaps", "overlaps before", "overlaps after"):
            name = "".join(word.capitalize() for word in kind.split())
            return self.call_op(node, name, [left, right], **extra)
        if kind in ("starts", "ends"):
            return self.call_op(node, kind.capitalize(), [left, right], **extra)
        if kind == "within":
            return self._within(node, left, right, sides)
        if kind in ("before", "after"):
            if node.offset is None:
                if node.inclusive:
                    name = "SameOrBefore" if kind == "before" else "SameOrAfter"
                else:
                    name = "Before" if kind == "before" else "After"
                return self.call_op(node, name, [left, right], **extra)
            return self._offset(node, left, right, sides)
        raise self.error(node, f"timing phrase {kind!r} is not supported", unsupported=True)  # type: ignore[attr-defined]

    def _quantity(self, node: ast.Timing) -> Quantity:
        assert node.offset is not None
        return Quantity(node.offset.value, node.offset.unit)

    def _offset(self, node: ast.Timing, left: Fn, right: Fn, sides: list[Any]) -> Fn:
        q = self._quantity(node)
        add = self.operator(node, "Add" if node.kind == "after" else "Subtract")
        relation = node.offset_relation
        before = node.kind == "before"
        point = self._point_of(node, right, sides[1])
        values = [A_SYSTEM_VALUE, A_SYSTEM_VALUE]  # the points and the window are System values

        def shifted(ctx: Any, env: dict[str, Any]) -> Any:
            value = point(ctx, env)
            return None if value is None else add(value, q)

        left_point = self._point_of(node, left, sides[0], first=not before)
        if relation is None:
            return self.call_op(
                node, "SameAs", [left_point, shifted], operands=values, precision=_unit_precision(q)
            )
        extra: dict[str, Any] = {"precision": node.precision, "operands": values}
        if relation == "or more":
            name = "SameOrBefore" if before else "SameOrAfter"
            return self.call_op(node, name, [left_point, shifted], **extra)
        if relation == "more than":
            return self.call_op(node, "Before" if before else "After", [left_point, shifted], **extra)
        make = _window  # a computed window may be empty (e.g. less than 1 day after a date): no error
        closed_far = relation == "or less"
        closed_near = bool(node.inclusive)  # "on or before/after": the point itself is in the window

        def window(ctx: Any, env: dict[str, Any]) -> Any:
            far = shifted(ctx, env)
            near = point(ctx, env)
            if far is None or near is None:
                return None
            if before:
                return make(far, near, closed_far, closed_near)
            return make(near, far, closed_near, closed_far)

        return self.call_op(node, "In", [left_point, window], **extra)

    def _within(self, node: ast.Timing, left: Fn, right: Fn, sides: list[Any]) -> Fn:
        q = self._quantity(node)
        sub, add = self.operator(node, "Subtract"), self.operator(node, "Add")
        make = _window
        closed = not node.proper
        point = self._point_of(node, right, sides[1])

        def window(ctx: Any, env: dict[str, Any]) -> Any:
            value = point(ctx, env)
            if value is None:
                return None
            return make(sub(value, q), add(value, q), closed, closed)

        left_point = self._point_of(node, left, sides[0])
        return self.call_op(node, "In", [left_point, window], operands=[A_SYSTEM_VALUE, A_SYSTEM_VALUE])

    def _point_of(self, node: ast.Node, fn: Fn, side: Any, first: bool = True) -> Fn:
        """A point operand as is; an interval operand by its start (or end). The implicit
        conversion of a FHIR operand is decided from its static type where known."""
        start = self.operator(node, "Start" if first else "End")
        plan = NONE if isinstance(side, NamedType) else self.static_plan(node, side, "timing operand")

        if plan == NONE:

            def point_as_is(ctx: Any, env: dict[str, Any]) -> Any:
                value = fn(ctx, env)
                return start(value) if type(value) is Interval else value

            return point_as_is
        convert = to_system if plan == TO_SYSTEM else system

        def point(ctx: Any, env: dict[str, Any]) -> Any:
            value = convert(fn(ctx, env))
            return start(value) if type(value) is Interval else value

        return point


def _window(low: Any, high: Any, low_closed: bool, high_closed: bool) -> Interval:
    return Interval(low, high, low_closed, high_closed)


def _unit_precision(q: Quantity) -> str | None:
    units = {
        "year": "year",
        "month": "month",
        "week": "week",
        "day": "day",
        "hour": "hour",
        "minute": "minute",
        "second": "second",
        "millisecond": "millisecond",
        "a": "year",
        "mo": "month",
        "wk": "week",
        "d": "day",
        "h": "hour",
        "min": "minute",
        "s": "second",
        "ms": "millisecond",
    }
    return units.get(q.unit)
