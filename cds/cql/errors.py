"""Typed errors of the CQL engine. Each says where: library, line, column, expression."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLocation:
    library: str | None
    line: int
    column: int

    def __str__(self) -> str:
        lib = self.library or "<anonymous>"
        return f"{lib}:{self.line}:{self.column}"


class CqlError(Exception):
    """Base of every engine error."""

    def __init__(self, message: str, location: SourceLocation | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class CqlSyntaxError(CqlError):
    """The text is not valid CQL."""


class CqlCompileError(CqlError):
    """Valid syntax that cannot be resolved, type-checked, or is not supported (fail closed)."""


class CqlUnsupportedError(CqlCompileError):
    """A construct the engine does not implement: refused at load time."""


class CqlRuntimeError(CqlError):
    """An error raised while evaluating (e.g. SingletonFrom of many, Message with Error)."""

    def __init__(
        self, message: str, location: SourceLocation | None = None, expression: str | None = None
    ) -> None:
        self.expression = expression
        super().__init__(message, location)


class EvaluationTimeout(CqlRuntimeError):
    """The evaluation's deadline passed (a request's time budget); the result is abandoned."""


class CqlLoadError(CqlError):
    """Loading a library failed; ``errors`` lists every problem found."""

    def __init__(self, errors: list[CqlError]) -> None:
        self.errors = errors
        lines = "\n".join(str(e) for e in errors)
        super().__init__(f"{len(errors)} error(s):\n{lines}")
