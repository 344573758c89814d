"""List promotion and demotion written into the syntax tree, so the engine runs what the type
resolver chose.

With the reference translator's options ``list_promotion``/``list_demotion`` on, the typed walk
(:mod:`cds.cql.elm.translator`) converts a single value to a list (ELM ``ToList``) or a list to
a single value (``SingletonFrom``) where an operator or function needs it, and records the
syntax node each conversion applies to. The closure compiler evaluates by values, not static
types, so before it compiles the library :func:`write_list_conversions` wraps each such node:
a demoted ``X`` becomes ``singleton from X``; a promoted ``X`` becomes
``if X is null then {} else {X}`` (``ToList``: null is the empty list). The rest of the tree is
left as it is (same node objects).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cds.cql.syntax import ast

PROMOTE, DEMOTE = "promote", "demote"


def wrap(node: ast.Expr, kind: str) -> ast.Expr:
    """``node`` promoted to a list (``kind`` = promote) or demoted to its single element."""
    line, column = node.line, node.column
    if kind == DEMOTE:
        return ast.Unary(line, column, "singleton", node)
    empty = ast.ListSelector(line, column, None, [])
    single = ast.ListSelector(line, column, None, [node])
    return ast.If(line, column, ast.Unary(line, column, "is null", node), empty, single)


def write_list_conversions(library: Any, conversions: dict[int, tuple[ast.Expr, str]]) -> None:
    """Wrap, in place, every node of ``library`` (a parsed library or any part of it) that
    ``conversions`` (``id(node)`` → (node, kind)) names."""
    if conversions:
        _rewrite(library, conversions, set())


def _rewrite(obj: Any, conversions: dict[int, tuple[ast.Expr, str]], seen: set[int]) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        new = _replace(value, conversions, seen)
        if new is not value:
            setattr(obj, f.name, new)


def _replace(value: Any, conversions: dict[int, tuple[ast.Expr, str]], seen: set[int]) -> Any:
    if isinstance(value, ast.Node):
        _rewrite(value, conversions, seen)
        found = conversions.get(id(value))
        return wrap(value, found[1]) if found is not None and found[0] is value else value
    if isinstance(value, list):
        for i, item in enumerate(value):
            new = _replace(item, conversions, seen)
            if new is not item:
                value[i] = new
        return value
    if isinstance(value, tuple):
        items = tuple(_replace(item, conversions, seen) for item in value)
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value
