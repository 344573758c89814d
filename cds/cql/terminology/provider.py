"""The terminology interface the engine evaluates value-set and code-system membership with
(CQL 1.5 §8 "Terminology": InValueSet, AnyInValueSet, InCodeSystem, ExpandValueSet).

The compiler asks :meth:`TerminologyProvider.has_valueset` for every ``valueset`` definition
at load time, so a library that names a value set the provider lacks is refused (fail closed).

Membership rules: a String matches on the code alone; a Code matches on system and code (the
code's version and display are ignored); a Concept is in a value set when any of its codes is;
null is not in any value set (the result is ``False``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from cds.cql.errors import CqlError
from cds.cql.runtime.clinical import Code, CodeSystemRef, ValueSetRef


class TerminologyError(CqlError):
    """A value set or code system that cannot be loaded, found or expanded correctly."""


@runtime_checkable
class TerminologyProvider(Protocol):
    def has_valueset(self, url: str, version: str | None = None) -> bool:
        """True when the value set (``url``, optionally at ``version``) can be expanded."""
        ...

    def has_codesystem(self, url: str, version: str | None = None) -> bool:
        """True when the membership of codes in the code system can be decided."""
        ...

    def expand(self, valueset: ValueSetRef) -> list[Code]:
        """Every code of the value set (restricted to its ``codesystems`` when given)."""
        ...

    def in_valueset(self, value: object, valueset: ValueSetRef) -> bool:
        """CQL InValueSet for a String, Code or Concept (null → False)."""
        ...

    def in_codesystem(self, value: object, codesystem: CodeSystemRef) -> bool:
        """CQL InCodeSystem for a String, Code or Concept (null → False)."""
        ...
