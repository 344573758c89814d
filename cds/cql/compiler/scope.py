"""Name resolution: what an identifier means where it is used.

Local names (query aliases, ``let`` names, function operands) live in the closure environment
``env`` (a dict) at run time; the compiler only checks that they exist. Library names
(definitions, parameters, terminology, includes) are resolved against the library being
compiled.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scope:
    locals: frozenset[str] = frozenset()
    sort_row: bool = False  # inside `sort by`: unknown identifiers are properties of the row
    implicit_this: bool = False
    aggregate: frozenset[str] = field(default_factory=frozenset)

    def with_locals(self, *names: str) -> Scope:
        return Scope(self.locals | frozenset(names), self.sort_row, self.implicit_this, self.aggregate)

    def for_sort(self) -> Scope:
        return Scope(self.locals, True, True, self.aggregate)
