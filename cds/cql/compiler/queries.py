"""Queries: sources (one or many), let, with/without ... such that, where, return [all|distinct],
aggregate, sort (CQL 1.5 §2 "Queries", §5 query evaluation).

A single-source query over a single value (not a list) yields a single value (null when the
row is filtered out). ``return`` without ``all`` removes duplicates; a query without ``return``
keeps its source rows as they are. Multi-source queries range over the cartesian product and
yield tuples of the aliases unless they return something else.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic
from typing import TYPE_CHECKING, Any

from cds.cql.compiler.context import EvaluationContext
from cds.cql.compiler.scope import Scope
from cds.cql.operators import registry
from cds.cql.operators.comparison import order_keys
from cds.cql.runtime import temporal
from cds.cql.runtime.values import Tuple
from cds.cql.syntax import ast

if TYPE_CHECKING:
    from cds.cql.compiler.expressions import ExpressionCompiler, Fn


@dataclass(frozen=True)
class _Clauses:
    """A query's clauses, compiled once; the run-time shapes below are built from them."""

    aliases: list[str]
    sources: list[Fn]
    lets: list[tuple[str, Fn]]
    inclusions: list[tuple[bool, str, Fn, Fn]]
    where: Fn | None
    returns: Fn | None
    distinct_result: bool
    aggregate: tuple[str, Fn, Fn | None, bool] | None
    sort_keys: list[tuple[Fn | None, bool]]

    @property
    def simple(self) -> bool:
        """One source with only where/return/sort: the shape without the general bookkeeping."""
        return len(self.sources) == 1 and not self.lets and not self.inclusions and self.aggregate is None


def _compile_clauses(c: ExpressionCompiler, node: ast.Query, scope: Scope) -> _Clauses:
    aliases = [s.alias for s in node.sources]
    sources = [c.compile(s.source, scope) for s in node.sources]
    inner = scope.with_locals(*aliases)
    lets: list[tuple[str, Fn]] = []
    for let in node.lets:
        lets.append((let.name, c.compile(let.expression, inner)))
        inner = inner.with_locals(let.name)
    inclusions = []
    for inc in node.inclusions:
        src = c.compile(inc.source.source, inner)
        cond = c.compile(inc.condition, inner.with_locals(inc.source.alias))
        inclusions.append((inc.kind == "with", inc.source.alias, src, cond))
    where = c.compile(node.where, inner) if node.where is not None else None
    returns = c.compile(node.return_, inner) if node.return_ is not None else None
    aggregate = None
    if node.aggregate is not None:
        agg = node.aggregate
        starting = c.compile(agg.starting, scope) if agg.starting is not None else None
        aggregate = (agg.name, c.compile(agg.expression, inner.with_locals(agg.name)), starting, agg.distinct)
    sort_keys: list[tuple[Fn | None, bool]] = []
    for item in node.sort or []:
        key = c.compile(item.expression, scope.for_sort().with_locals("$this")) if item.expression else None
        sort_keys.append((key, item.descending))
    distinct_result = returns is not None and not node.return_all
    return _Clauses(aliases, sources, lets, inclusions, where, returns, distinct_result, aggregate, sort_keys)


def compile_query(c: ExpressionCompiler, node: ast.Query, scope: Scope) -> Fn:
    q = _compile_clauses(c, node, scope)
    return _simple_query(q) if q.simple else _general_query(q)


def compile_exists_query(c: ExpressionCompiler, node: ast.Query, scope: Scope) -> Fn:
    """``exists (query)``: for the simple shape, a loop that stops at the first row giving a
    non-null value (Exists ignores order, duplicates and the rest of the list); otherwise
    Exists of the general query."""
    q = _compile_clauses(c, node, scope)
    if q.simple:
        return _exists_query(q)
    general = _general_query(q)
    exists_op = registry.lookup("Exists")
    assert exists_op is not None
    return lambda ctx, env: exists_op(general(ctx, env))


def _general_query(q: _Clauses) -> Fn:
    aliases, sources, lets, inclusions = q.aliases, q.sources, q.lets, q.inclusions
    where, returns, aggregate = q.where, q.returns, q.aggregate
    distinct_op = registry.lookup("Distinct")
    finish = _finisher(q)
    single_source = len(sources) == 1

    def run(ctx: EvaluationContext, env: dict[str, Any]) -> Any:
        if ctx.deadline is not None and monotonic() > ctx.deadline:
            ctx.out_of_time()
        values = [f(ctx, env) for f in sources]
        single_value = single_source and not isinstance(values[0], list)
        if single_value and values[0] is None:
            return None
        lists = [v if isinstance(v, list) else ([] if v is None else [v]) for v in values]
        combos = [(row,) for row in lists[0]] if single_source else itertools.product(*lists)
        results: list[Any] = []
        rows_for_aggregate: list[dict[str, Any]] = []
        e = dict(env)  # one frame per query run, rebound for each row
        for combo in combos:
            if aggregate is not None:
                e = dict(env)
            for alias, row in zip(aliases, combo, strict=True):
                e[alias] = row
            for name, fn in lets:
                e[name] = fn(ctx, e)
            keep = True
            for is_with, alias, src, cond in inclusions:
                related = src(ctx, e)
                related = related if isinstance(related, list) else ([] if related is None else [related])
                found = False
                for item in related:
                    e[alias] = item
                    if cond(ctx, e) is True:
                        found = True
                        break
                e.pop(alias, None)
                if found != is_with:
                    keep = False
                    break
            if not keep:
                continue
            if where is not None and where(ctx, e) is not True:
                continue
            if aggregate is not None:
                rows_for_aggregate.append(e)
                continue
            if returns is not None:
                results.append(returns(ctx, e))
            elif single_source:
                results.append(combo[0])
            else:
                results.append(Tuple(zip(aliases, combo, strict=True)))
        if aggregate is not None:
            name, step, starting, distinct = aggregate
            acc = starting(ctx, env) if starting is not None else None
            if distinct and distinct_op is not None:
                seen = distinct_op([tuple(r[a] for a in aliases) for r in rows_for_aggregate])
                rows_for_aggregate = [dict(env, **dict(zip(aliases, s, strict=True))) for s in seen]
            for e in rows_for_aggregate:
                e[name] = acc
                acc = step(ctx, e)
            return acc
        return finish(ctx, env, results, single_value)

    return run


def _exists_query(q: _Clauses) -> Fn:
    """The simple shape under ``exists``: true at the first row with a non-null value."""
    (source,), (alias,), where, returns = q.sources, q.aliases, q.where, q.returns

    def exists(ctx: EvaluationContext, env: dict[str, Any]) -> bool:
        if ctx.deadline is not None and monotonic() > ctx.deadline:
            ctx.out_of_time()
        value = source(ctx, env)
        if value is None:
            return False
        e = dict(env)
        for row in value if isinstance(value, list) else (value,):
            e[alias] = row
            if where is not None and where(ctx, e) is not True:
                continue
            if (row if returns is None else returns(ctx, e)) is not None:
                return True
        return False

    return exists


def _simple_query(q: _Clauses) -> Fn:
    """The common shape — one source, ``where``, ``return``, ``sort``, nothing else — without
    the general loop's bookkeeping. Same semantics as the general query."""
    (source,), (alias,), where, returns = q.sources, q.aliases, q.where, q.returns
    finish = _finisher(q)

    def run(ctx: EvaluationContext, env: dict[str, Any]) -> Any:
        if ctx.deadline is not None and monotonic() > ctx.deadline:
            ctx.out_of_time()
        value = source(ctx, env)
        if value is None:
            return None
        single_value = not isinstance(value, list)
        e = dict(env)  # one frame per query run, rebound for each row
        results: list[Any] = []
        for row in (value,) if single_value else value:
            e[alias] = row
            if where is not None and where(ctx, e) is not True:
                continue
            results.append(row if returns is None else returns(ctx, e))
        return finish(ctx, env, results, single_value)

    return run


def _finisher(q: _Clauses) -> Callable[[Any, dict[str, Any], list[Any], bool], Any]:
    """The end of every query run: duplicates removed (``return`` without ``all``), rows sorted,
    a single source's value unwrapped."""
    distinct_result, sort_keys = q.distinct_result, q.sort_keys
    distinct_op = registry.lookup("Distinct")
    compare = _comparer()

    def finish(ctx: Any, env: dict[str, Any], results: list[Any], single_value: bool) -> Any:
        if distinct_result and distinct_op is not None and len(results) > 1:
            results = distinct_op(results)
        if sort_keys:
            results = _sort(ctx, env, results, sort_keys, compare)
        if single_value:
            return results[0] if results else None
        return results

    return finish


def _comparer() -> Any:
    from cds.cql.operators.comparison import compare

    def cmp(a: Any, b: Any) -> int:
        if a is None and b is None:
            return 0
        if a is None:
            return -1
        if b is None:
            return 1
        result = compare(a, b)
        if result is None and temporal.is_temporal(a) and type(a) is type(b):
            return _by_earliest(a, b)
        return 0 if result is None else result

    return cmp


def _by_earliest(a: Any, b: Any) -> int:
    """Date/time values whose order is uncertain (different precisions, e.g. @2012-01-01 and
    @2012-01-01T12) in a total order consistent with CQL comparison: by the earliest moment
    each stands for, then the less precise first."""
    from cds.cql.operators.comparison import compare

    depth = len(a.PRECISIONS)
    result = compare(temporal.filled(a, depth, False), temporal.filled(b, depth, False))
    if result:
        return result
    return (len(a.parts) > len(b.parts)) - (len(a.parts) < len(b.parts))


def _sort(
    ctx: Any, env: dict[str, Any], rows: list[Any], keys: list[tuple[Any, bool]], cmp: Any
) -> list[Any]:
    if len(rows) < 2:
        return rows

    def key_values(row: Any) -> list[Any]:
        e = dict(env)
        e["$this"] = row
        return [row if fn is None else fn(ctx, e) for fn, _ in keys]

    decorated = [(key_values(r), r) for r in rows]
    columns = [order_keys([kv[i] for kv, _ in decorated]) for i in range(len(keys))]
    if all(c is not None for c in columns):
        # Python keys that order as CQL comparison does: one stable sort per key, last key first.
        positions = list(range(len(decorated)))
        for i in range(len(keys) - 1, -1, -1):
            column = columns[i]
            assert column is not None
            positions.sort(key=column.__getitem__, reverse=keys[i][1])
        return [decorated[i][1] for i in positions]

    def order(a: tuple[list[Any], Any], b: tuple[list[Any], Any]) -> int:
        for x, y, (_, descending) in zip(a[0], b[0], keys, strict=True):
            result = int(cmp(x, y))
            if result:
                return -result if descending else result
        return 0

    decorated.sort(key=functools.cmp_to_key(order))
    return [r for _, r in decorated]
