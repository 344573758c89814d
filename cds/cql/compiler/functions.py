"""System functions called by name: ``First(x)``, ``Coalesce(a, b)``, ``Now()``, ``ToString(x)``.

A function name maps to the ELM operator of the same name in the registry, except where CQL
names differ from ELM (below). Names neither the library nor the System library define are
refused at load time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cds.cql.compiler.values import system
from cds.cql.syntax import ast

if TYPE_CHECKING:
    from cds.cql.compiler.expressions import ExpressionCompiler, Fn

RENAMED = {
    "Length": "Length",
    "Split": "Split",
    "IsNull": "IsNull",
    "Size": "Size",
    "AgeInYears": "CalculateAge",
    "AgeInMonths": "CalculateAge",
    "AgeInDays": "CalculateAge",
    "descendents": "Descendents",
}
VARIADIC_LIST = frozenset({"Coalesce"})


def system_function(
    compiler: ExpressionCompiler,
    node: ast.Call,
    name: str,
    args: list[Fn],
    arg_nodes: list[ast.Node] | None = None,
) -> Fn:
    if name == "Now":
        return lambda ctx, env: ctx.now
    if name == "Today":
        return lambda ctx, env: ctx.now.date()
    if name == "TimeOfDay":
        from cds.cql.runtime.temporal import Time

        return lambda ctx, env: Time(*ctx.now.parts[3:7])
    if name == "Coalesce":
        return _coalesce(args)
    if name in ("AgeInYears", "AgeInMonths", "AgeInDays", "AgeInYearsAt", "AgeInMonthsAt", "AgeInDaysAt"):
        return _age(compiler, node, name, args)
    if name == "Message":
        return compiler.call_op(node, "Message", args, operands=arg_nodes)
    return compiler.call_op(node, RENAMED.get(name, name), args, operands=arg_nodes)


def _coalesce(args: list[Fn]) -> Fn:
    if len(args) == 1:
        (only,) = args

        def from_list(ctx: Any, env: dict[str, Any]) -> Any:
            values = only(ctx, env)
            if isinstance(values, list):
                return next((v for v in values if v is not None), None)
            return values

        return from_list

    def first(ctx: Any, env: dict[str, Any]) -> Any:
        for fn in args:
            value = fn(ctx, env)
            if value is not None:
                return value
        return None

    return first


def _age(compiler: ExpressionCompiler, node: ast.Call, name: str, args: list[Fn]) -> Fn:
    precision = "year" if "Years" in name else "month" if "Months" in name else "day"
    op = compiler.operator(node, "CalculateAgeAt")

    def age(ctx: Any, env: dict[str, Any]) -> Any:
        patient = ctx.context_values.get("Patient")
        birth = None if patient is None else patient.get("birthDate")
        at = system(args[0](ctx, env)) if args else ctx.now
        return op(birth, at, precision=precision)

    return age
