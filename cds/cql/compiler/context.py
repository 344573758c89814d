"""The per-evaluation state: data, terminology, parameters, the clock, the context value, and
the cache that evaluates each define at most once per evaluation."""

from __future__ import annotations

from typing import Any

from cds.cql.data.retriever import Retriever
from cds.cql.terminology.provider import TerminologyProvider


class EvaluationContext:
    __slots__ = ("retriever", "terminology", "parameters", "now", "context_values", "cache", "in_progress")

    def __init__(
        self,
        *,
        retriever: Retriever,
        terminology: TerminologyProvider | None,
        parameters: dict[str, Any],
        now: Any,
        context_values: dict[str, Any],
    ) -> None:
        self.retriever = retriever
        self.terminology = terminology
        self.parameters = parameters
        self.now = now
        self.context_values = context_values
        self.cache: dict[int, Any] = {}
        self.in_progress: set[int] = set()
