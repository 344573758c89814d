"""FHIRPath (fhirpathpy, FHIR R4 model): the only module that imports it.

Expressions are compiled once (``FhirPath(expr)``) and evaluated many times; fhirpathpy's bare
exceptions are re-raised as :class:`FhirPathError`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import fhirpathpy
from fhirpathpy.models import models

R4 = models["r4"]


class FhirPathError(ValueError):
    """A FHIRPath expression failed to compile or evaluate."""


class FhirPath:
    __slots__ = ("expression", "_fn")

    def __init__(self, expression: str) -> None:
        self.expression = expression
        try:
            self._fn = fhirpathpy.compile(expression, R4)
        except Exception as exc:  # fhirpathpy raises bare Exception
            raise FhirPathError(f"cannot compile FHIRPath {expression!r}: {exc}") from exc

    def __call__(self, resource: Any, variables: dict[str, Any] | None = None) -> list[Any]:
        try:
            result = self._fn(resource, variables or {})
        except Exception as exc:  # fhirpathpy raises bare Exception
            raise FhirPathError(f"FHIRPath {self.expression!r} failed: {exc}") from exc
        return list(result) if isinstance(result, list) else [result]

    def first(self, resource: Any, variables: dict[str, Any] | None = None) -> Any:
        values = self(resource, variables)
        return values[0] if values else None


@lru_cache(maxsize=256)
def compiled(expression: str) -> FhirPath:
    """The compiled expression (compiled once per process)."""
    return FhirPath(expression)


@lru_cache(maxsize=256)
def is_choice_element(name: str) -> bool:
    """Whether an element called ``name`` is a choice in some R4 type (``value`` of
    ``Observation.value[x]``): its JSON key then carries the type (``valueQuantity``)."""
    suffix = "." + name
    return any(path.endswith(suffix) for path in R4["choiceTypePaths"])
