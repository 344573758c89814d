"""The policy library on the engine: loaded and compiled once at start-up, evaluated once per
draft ServiceRequest with the parameters of ``docs/policy-contract.md``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from cds.cql.api import Library, load_library
from cds.cql.terminology.folder import FolderTerminology

LIBRARY_FILE = "DLIMedicalNecessity.cql"
RESULT_DEFINES = (
    "In Scope",
    "Outcome",
    "Criteria",
    "Failing Criteria",
    "Unknown Criteria",
    "Missing Facts",
    "Coverage Reason",
)


class PolicyEngine:
    def __init__(self, cql_dir: Path) -> None:
        self.terminology = FolderTerminology(cql_dir / "valuesets")
        self.library: Library = load_library(
            cql_dir / LIBRARY_FILE, library_dirs=[cql_dir], terminology=self.terminology
        )

    def evaluate(
        self,
        order: dict[str, Any],
        orders: list[dict[str, Any]],
        record: list[dict[str, Any]] | Record,
        now: dt.datetime,
        questionnaire_url: str,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """The result defines of the contract (only they and what they need are evaluated).
        Raises EvaluationTimeout once ``deadline`` (``time.monotonic()``) has passed."""
        return self.results(self.context(order, orders, record, now, questionnaire_url, deadline))

    def record(self, resources: list[dict[str, Any]]) -> Record:
        """The patient's record read once per request: every order's evaluation shares it (its
        resources are indexed by type and each element is read once)."""
        from cds.cql.data.memory import InMemoryRetriever

        return Record(InMemoryRetriever(resources).with_terminology(self.terminology))

    def context(
        self,
        order: dict[str, Any],
        orders: list[dict[str, Any]],
        record: list[dict[str, Any]] | Record,
        now: dt.datetime,
        questionnaire_url: str,
        deadline: float | None = None,
    ) -> Any:
        """One order's evaluation: defines are evaluated on demand and cached in it."""
        from cds.cql.api import parameter_value, python_datetime_to_cql
        from cds.cql.compiler.context import EvaluationContext

        retriever = (record if isinstance(record, Record) else self.record(record)).retriever
        params = {
            "Order": parameter_value(order),
            "Draft Orders": parameter_value(orders),
            "Questionnaire URL": questionnaire_url,
        }
        return EvaluationContext(
            retriever=retriever,
            terminology=self.terminology,
            parameters=params,
            now=python_datetime_to_cql(now),
            context_values={"Patient": retriever.patient()},
            deadline=deadline,
        )

    def in_scope(self, ctx: Any) -> bool:
        """Whether the context's order is in scope (interpretation §1; the orders alone decide)."""
        return self.library.compiled.evaluate("In Scope", ctx) is True

    def results(self, ctx: Any) -> dict[str, Any]:
        return {name: self.library.compiled.evaluate(name, ctx) for name in RESULT_DEFINES}


class Record:
    """A request's record as the engine reads it (see :meth:`PolicyEngine.record`)."""

    __slots__ = ("retriever",)

    def __init__(self, retriever: Any) -> None:
        self.retriever = retriever


def scope_only(
    engine: PolicyEngine,
    order: dict[str, Any],
    orders: list[dict[str, Any]],
    now: dt.datetime,
    questionnaire_url: str,
) -> bool:
    """Whether ``order`` is in scope (interpretation §1), without the patient's record."""
    return engine.in_scope(engine.context(order, orders, [], now, questionnaire_url))
