"""The per-evaluation state: data, terminology, parameters, the clock, the context value, and
the cache that evaluates each define at most once per evaluation, and an optional deadline
(``time.monotonic()`` seconds) checked cooperatively at every define and query run."""

from __future__ import annotations

from typing import Any, NoReturn

from cds.cql.data.retriever import Retriever
from cds.cql.terminology.provider import TerminologyProvider


class EvaluationContext:
    __slots__ = (
        "retriever",
        "terminology",
        "parameters",
        "now",
        "context_values",
        "cache",
        "in_progress",
        "deadline",
    )

    def __init__(
        self,
        *,
        retriever: Retriever,
        terminology: TerminologyProvider | None,
        parameters: dict[str, Any],
        now: Any,
        context_values: dict[str, Any],
        deadline: float | None = None,
    ) -> None:
        self.retriever = retriever
        self.terminology = terminology
        self.parameters = parameters
        self.now = now
        self.context_values = context_values
        self.cache: dict[int, Any] = {}
        self.in_progress: set[int] = set()
        self.deadline = deadline

    def out_of_time(self) -> NoReturn:
        """Raised by the hot paths (defines, queries) once ``time.monotonic()`` passes the
        deadline; they compare inline to spare a call."""
        from cds.cql.errors import EvaluationTimeout

        raise EvaluationTimeout("the evaluation ran out of its time budget")
