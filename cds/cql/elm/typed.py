"""What the typed walk passes around: :class:`Typed` (an ELM node with its static type),
:class:`Local` (a query alias, ``let`` name or function operand) and :class:`Scope`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cds.cql.types.specifiers import CqlType


@dataclass(slots=True)
class Typed:
    elm: dict[str, Any]
    type: CqlType
    #: The syntax node it was typed from (set by the walk's dispatch; None when built inside
    #: a construct): where a list promotion/demotion is written for the engine.
    node: Any = None


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
