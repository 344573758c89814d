"""What the typed walk found, per AST node, for the closure compiler: each expression's static
type and, for operator and function calls, the resolved overload and the conversion applied to
each argument.

Keyed by ``id(node)``; the table keeps every node it describes alive, so an id cannot be reused
by another node while the table lives. A node typed twice with different answers (e.g. a
parameter default typed once per use) is recorded as unknown: the compiler then keeps the
run-time path there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cds.cql.types.conversions import Conversion
from cds.cql.types.specifiers import CqlType


@dataclass(frozen=True, slots=True)
class CallInfo:
    """A resolved call: ``index`` is the overload among the candidates of that name (for
    functions: the library's functions of that name, in declaration order), ``operands`` the
    overload's (instantiated) operand types, ``conversions`` one per argument."""

    index: int
    operands: tuple[CqlType, ...]
    conversions: tuple[Conversion, ...]


class StaticTypes:
    def __init__(self) -> None:
        self._types: dict[int, tuple[Any, CqlType | None]] = {}
        self._calls: dict[tuple[int, str], tuple[Any, CallInfo | None]] = {}

    def __len__(self) -> int:
        return len(self._types)

    def record(self, node: Any, t: CqlType) -> None:
        key = id(node)
        found = self._types.get(key)
        if found is not None and found[1] != t:
            self._types[key] = (node, None)
        elif found is None:
            self._types[key] = (node, t)

    def record_call(self, node: Any, name: str, info: CallInfo) -> None:
        key = (id(node), name)
        found = self._calls.get(key)
        if found is not None and found[1] != info:
            self._calls[key] = (node, None)
        elif found is None:
            self._calls[key] = (node, info)

    def type_of(self, node: Any) -> CqlType | None:
        found = self._types.get(id(node))
        return None if found is None or found[0] is not node else found[1]

    def call(self, node: Any, name: str) -> CallInfo | None:
        """The call of operator or function ``name`` at ``node`` (one node may hold several,
        e.g. ``between`` is two comparisons)."""
        found = self._calls.get((id(node), name))
        return None if found is None or found[0] is not node else found[1]
