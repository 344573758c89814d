"""Errors of static typing: :class:`CqlTypeError` (the library is ill-typed: a compile error
with position) and :class:`CannotType` (a construct the resolver does not cover: refused by the
``elm`` command, fail closed; the load-time check skips libraries it does not fully cover)."""

from __future__ import annotations

from cds.cql.errors import CqlCompileError, CqlUnsupportedError


class CqlTypeError(CqlCompileError):
    """An expression whose operands have no applicable signature or conversion."""


class CannotType(CqlUnsupportedError):
    """A construct the type resolver / ELM writer does not cover."""
