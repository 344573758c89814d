"""The table of system operators, keyed by their ELM name.

Every operator of the CQL System library is a plain Python function over runtime values
(see ``docs/engine-architecture.md``): arguments arrive already evaluated, ``None`` is CQL
null, and each function applies CQL's null semantics itself. Modules register their
operators with :func:`operator`; the compiler looks them up with :func:`lookup` at load time,
so an operator nobody implements is refused when a library is loaded, never at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

OperatorFn = Callable[..., Any]
F = TypeVar("F", bound=OperatorFn)

_OPERATORS: dict[str, OperatorFn] = {}


class DuplicateOperatorError(RuntimeError):
    """Two modules registered the same ELM operator name."""


def operator(name: str) -> Callable[[F], F]:
    """Register ``fn`` as the implementation of the ELM operator ``name``."""

    def register(fn: F) -> F:
        if name in _OPERATORS and _OPERATORS[name] is not fn:
            raise DuplicateOperatorError(f"operator {name!r} registered twice")
        _OPERATORS[name] = fn
        return fn

    return register


def lookup(name: str) -> OperatorFn | None:
    """The implementation of ``name``, or None when no module provides it."""
    _load_all()
    return _OPERATORS.get(name)


def names() -> frozenset[str]:
    _load_all()
    return frozenset(_OPERATORS)


_loaded = False


def _load_all() -> None:
    """Import every operator module once so that their registrations run."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib
    import pkgutil

    from cds.cql import operators

    for info in pkgutil.iter_modules(operators.__path__):
        if info.name != "registry":
            importlib.import_module(f"cds.cql.operators.{info.name}")
