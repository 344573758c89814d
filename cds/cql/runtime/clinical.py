"""Clinical values of CQL (spec §2.7 "Clinical Values"): Code, Concept, and references to value
sets and code systems.

Equality (``=``) of a Code compares code, system, version and display; equivalence (``~``)
compares code and system only. A Concept equals another when their codes are pairwise equal
(in order) and their displays are equal; it is equivalent when any code of one is equivalent to
any code of the other (CQL 1.5 §9.3 Equivalent).
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _field_equal(a: str | None, b: str | None) -> bool | None:
    if a is None and b is None:
        return True
    if a is None or b is None:
        return None
    return a == b


def _all_equal(results: list[bool | None]) -> bool | None:
    if any(r is False for r in results):
        return False
    if any(r is None for r in results):
        return None
    return True


class Code:
    """``System.Code``: a code from a code system. Immutable by convention (hashable value; a
    plain class rather than a frozen dataclass, so the compiled engine builds one natively)."""

    __slots__ = ("code", "system", "version", "display")

    def __init__(
        self,
        code: str | None,
        system: str | None = None,
        version: str | None = None,
        display: str | None = None,
    ) -> None:
        self.code = code
        self.system = system
        self.version = version
        self.display = display

    def _fields(self) -> tuple[str | None, str | None, str | None, str | None]:
        return (self.code, self.system, self.version, self.display)

    def __eq__(self, other: object) -> bool:
        return type(other) is Code and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"Code(code={self.code!r}, system={self.system!r}, version={self.version!r}, "
            f"display={self.display!r})"
        )

    def cql_equal(self, other: object) -> bool | None:
        if not isinstance(other, Code):
            return False
        return _all_equal(
            [
                _field_equal(self.code, other.code),
                _field_equal(self.system, other.system),
                _field_equal(self.version, other.version),
                _field_equal(self.display, other.display),
            ]
        )

    def cql_equivalent(self, other: object) -> bool:
        if isinstance(other, Concept):
            return other.cql_equivalent(self)
        if not isinstance(other, Code):
            return False
        return self.code == other.code and self.system == other.system

    def key(self) -> tuple[str | None, str | None]:
        """(system, code): the identity used by terminology membership."""
        return (self.system, self.code)

    def cql_to_string(self) -> str:
        text = f"Code {{ code: '{self.code}', system: '{self.system}'"
        if self.version is not None:
            text += f", version: '{self.version}'"
        if self.display is not None:
            text += f", display: '{self.display}'"
        return text + " }"


class Concept:
    """``System.Concept``: codes that all mean the same thing, with an optional display.
    Immutable by convention, like :class:`Code`."""

    __slots__ = ("codes", "display")

    def __init__(self, codes: tuple[Code, ...] = (), display: str | None = None) -> None:
        self.codes = codes
        self.display = display

    def __eq__(self, other: object) -> bool:
        return type(other) is Concept and (self.codes, self.display) == (other.codes, other.display)

    def __hash__(self) -> int:
        return hash((self.codes, self.display))

    def __repr__(self) -> str:
        return f"Concept(codes={self.codes!r}, display={self.display!r})"

    def cql_equal(self, other: object) -> bool | None:
        if not isinstance(other, Concept):
            return False
        if len(self.codes) != len(other.codes):
            return False
        results = [a.cql_equal(b) for a, b in zip(self.codes, other.codes, strict=True)]
        results.append(_field_equal(self.display, other.display))
        return _all_equal(results)

    def cql_equivalent(self, other: object) -> bool:
        if isinstance(other, Code):
            return any(c.cql_equivalent(other) for c in self.codes)
        if not isinstance(other, Concept):
            return False
        return any(a.cql_equivalent(b) for a in self.codes for b in other.codes)

    def cql_to_string(self) -> str:
        inner = ", ".join(c.cql_to_string() for c in self.codes)
        text = f"Concept {{ codes: {{ {inner} }}"
        if self.display is not None:
            text += f", display: '{self.display}'"
        return text + " }"


@dataclass(frozen=True, slots=True)
class CodeSystemRef:
    """A reference to a code system (``codesystem`` definition): canonical id and version."""

    id: str
    version: str | None = None

    def cql_equal(self, other: object) -> bool | None:
        return isinstance(other, CodeSystemRef) and (self.id, self.version) == (other.id, other.version)

    def cql_equivalent(self, other: object) -> bool:
        return self.cql_equal(other) is True

    def cql_to_string(self) -> str:
        return f"CodeSystem '{self.id}'" + (f" version '{self.version}'" if self.version else "")


@dataclass(frozen=True, slots=True)
class ValueSetRef:
    """A reference to a value set (``valueset`` definition): canonical url, version, and the code
    systems the definition restricts it to (``codesystems { ... }``)."""

    id: str
    version: str | None = None
    codesystems: tuple[CodeSystemRef, ...] = field(default=())

    @property
    def canonical(self) -> str:
        """``url|version`` when versioned, else the url."""
        return f"{self.id}|{self.version}" if self.version else self.id

    def cql_equal(self, other: object) -> bool | None:
        return isinstance(other, ValueSetRef) and (self.id, self.version, self.codesystems) == (
            other.id,
            other.version,
            other.codesystems,
        )

    def cql_equivalent(self, other: object) -> bool:
        return self.cql_equal(other) is True

    def cql_to_string(self) -> str:
        return f"ValueSet '{self.canonical}'"
