"""``dli-cds pas submit BUNDLE.json [--now ISO-DATETIME] [--base-url URL]``: a PAS ``$submit``
answered from a file, through the same :class:`~cds.pas.service.ClaimService` as the HTTP route
(nothing stored). Prints the response Bundle (or the OperationOutcome) and, on stderr, one line
per item; the exit status is 0 when every reviewed item is certified (A1) or needs no action,
10 when one is not certified (A3), 11 pended for documentation, 12 pended as indeterminate, 2
for a Bundle that cannot be answered. Never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from cds.cli_clock import clock

EXIT_BY_OUTCOME = {"not-medically-necessary": 10, "documentation-needed": 11, "indeterminate": 12}


def register(commands: Any) -> None:
    pas = commands.add_parser("pas", help="Da Vinci PAS operations from files")
    operations = pas.add_subparsers(dest="pas_command", required=True)
    submit = operations.add_parser("submit", help="answer a PAS Claim/$submit Bundle from a file")
    submit.add_argument("bundle", type=Path)
    submit.add_argument("--now", default=None, help="the clock (ISO date-time with offset)")
    submit.add_argument("--base-url", default="http://127.0.0.1:8080")


def run(args: argparse.Namespace) -> int:
    from cds.decision_core import DecisionCore
    from cds.errors import ServiceError
    from cds.evaluation import PolicyEngine
    from cds.fhir_client import FhirClient
    from cds.limits import Deadline
    from cds.pas.service import ClaimService
    from cds.questionnaire import QuestionnaireStore, canonical
    from cds.settings import get_settings

    try:
        now = clock(args.now)
        body = json.loads(args.bundle.read_text())
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = get_settings()
    core = DecisionCore(
        PolicyEngine(settings.cql_dir),
        FhirClient(settings.fhir_timeout_seconds, settings.fhir_max_pages),
        settings.time_budget_seconds,
    )
    service = ClaimService(core, store=None)
    try:
        result = asyncio.run(
            service.submit(
                body,
                now=now,
                questionnaire_url=canonical(args.base_url),
                deadline=Deadline(settings.time_budget_seconds),
                questionnaire_version=QuestionnaireStore(settings.cql_dir).version,
            )
        )
    except ServiceError as exc:
        where = f" ({exc.where})" if exc.where else ""
        print(f"error: {exc.message}{where}", file=sys.stderr)
        return 2
    print(json.dumps(result.body, indent=2))
    worst = 0
    for entry in result.orders:
        print(f"{entry['order']}: {entry['review_action']} ({entry['outcome']})", file=sys.stderr)
        worst = max(worst, EXIT_BY_OUTCOME.get(entry["outcome"], 0))
    return worst
