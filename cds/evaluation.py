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
    ) -> dict[str, Any]:
        result = self.library.evaluate(
            record,
            parameters={"Order": order, "Draft Orders": orders, "Questionnaire URL": questionnaire_url},
            now=now,
        )
        return {name: result[name] for name in RESULT_DEFINES}


def scope_only(
    engine: PolicyEngine,
    order: dict[str, Any],
    orders: list[dict[str, Any]],
    now: dt.datetime,
    questionnaire_url: str,
) -> bool:
    """Whether ``order`` is in scope (interpretation §1), without the patient's record."""
    from cds.cql.api import parameter_value, python_datetime_to_cql
    from cds.cql.compiler.context import EvaluationContext
    from cds.cql.data.memory import InMemoryRetriever

    params = {
        "Order": parameter_value(order),
        "Draft Orders": parameter_value(orders),
        "Questionnaire URL": questionnaire_url,
    }
    ctx = EvaluationContext(
        retriever=InMemoryRetriever([]),
        terminology=engine.terminology,
        parameters=params,
        now=python_datetime_to_cql(now),
        context_values={"Patient": None},
    )
    return engine.library.compiled.evaluate("In Scope", ctx) is True
