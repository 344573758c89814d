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
        record: list[dict[str, Any]],
        now: dt.datetime,
        questionnaire_url: str,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """The result defines of the contract (only they and what they need are evaluated).
        Raises EvaluationTimeout once ``deadline`` (``time.monotonic()``) has passed."""
        ctx = self._context(order, orders, record, now, questionnaire_url, deadline)
        return {name: self.library.compiled.evaluate(name, ctx) for name in RESULT_DEFINES}

    def _context(
        self,
        order: dict[str, Any],
        orders: list[dict[str, Any]],
        record: list[dict[str, Any]],
        now: dt.datetime,
        questionnaire_url: str,
        deadline: float | None = None,
    ) -> Any:
        from cds.cql.api import parameter_value, python_datetime_to_cql
        from cds.cql.compiler.context import EvaluationContext
        from cds.cql.data.memory import InMemoryRetriever

        retriever = InMemoryRetriever(record).with_terminology(self.terminology)
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


def scope_only(
    engine: PolicyEngine,
    order: dict[str, Any],
    orders: list[dict[str, Any]],
    now: dt.datetime,
    questionnaire_url: str,
) -> bool:
    """Whether ``order`` is in scope (interpretation §1), without the patient's record."""
    ctx = engine._context(order, orders, [], now, questionnaire_url)
    return engine.library.compiled.evaluate("In Scope", ctx) is True
