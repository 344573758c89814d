"""``dli-cds dtr``: the questionnaire package and our engine's prepopulation, from files.

```
dli-cds dtr package --order ORDER.json [--order ...] --coverage COVERAGE.json [--now ISO] [--base-url URL]
dli-cds dtr prepopulate REQUEST.json [--now ISO] [--base-url URL]
```
``package`` prints the operation's output Parameters (as ``POST
/fhir/Questionnaire/$questionnaire-package`` answers them); ``prepopulate`` prints the draft
QuestionnaireResponse our prepopulation library fills from an order-sign request's record (its
prefetch), for its first ServiceRequest — what a DTR app running the package sees. Exit status 2,
with a one-line error, for a file that cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from cds.cli_clock import clock


def register(commands: Any) -> None:
    dtr = commands.add_parser("dtr", help="Da Vinci DTR: questionnaire package and prepopulation")
    sub = dtr.add_subparsers(dest="dtr_command", required=True)
    package = sub.add_parser("package", help="print the $questionnaire-package output for an order")
    package.add_argument("--order", type=Path, action="append", required=True, help="a ServiceRequest (JSON)")
    package.add_argument("--coverage", type=Path, required=True, help="a Coverage (JSON)")
    prepopulate = sub.add_parser("prepopulate", help="print the draft QuestionnaireResponse for a record")
    prepopulate.add_argument("request", type=Path, help="an order-sign request with its prefetch")
    for p in (package, prepopulate):
        p.add_argument("--now", default=None, help="the clock (ISO date-time with offset)")
        p.add_argument("--base-url", default="http://127.0.0.1:8080")


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def run(args: argparse.Namespace) -> int:
    try:
        now = clock(args.now)
        if args.dtr_command == "package":
            out = _package([_read(p) for p in args.order], _read(args.coverage), now, args.base_url)
        else:
            out = _prepopulate(_read(args.request), now, args.base_url)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # typed service errors carry where
        from cds.errors import ServiceError

        if not isinstance(exc, ServiceError):
            raise
        where = f" ({exc.where})" if exc.where else ""
        print(f"error: {exc.message}{where}", file=sys.stderr)
        return 2
    print(json.dumps(out, indent=2))
    return 0


def _package(orders: list[Any], coverage: Any, now: dt.datetime, base_url: str) -> dict[str, Any]:
    from cds.decision_core import DecisionCore
    from cds.dtr.artifacts import ArtifactStore
    from cds.dtr.package import PackageService
    from cds.evaluation import PolicyEngine
    from cds.fhir_client import FhirClient
    from cds.limits import Deadline
    from cds.questionnaire import QuestionnaireStore
    from cds.settings import get_settings

    settings = get_settings()
    core = DecisionCore(
        PolicyEngine(settings.cql_dir),
        FhirClient(settings.fhir_timeout_seconds, settings.fhir_max_pages),
        settings.time_budget_seconds,
    )
    service = PackageService(ArtifactStore(settings.cql_dir), core, now)
    body = {
        "resourceType": "Parameters",
        "parameter": [{"name": "coverage", "resource": coverage}]
        + [{"name": "order", "resource": o} for o in orders],
    }
    questionnaire = QuestionnaireStore(settings.cql_dir).questionnaire(base_url)
    return asyncio.run(
        service.package(
            body, questionnaire=questionnaire, now=now, deadline=Deadline(settings.time_budget_seconds)
        )
    )


def _prepopulate(request: Any, now: dt.datetime, base_url: str) -> dict[str, Any]:
    from cds.dtr.prepopulation import Prepopulator
    from cds.questionnaire import QuestionnaireStore, canonical
    from cds.settings import get_settings

    settings = get_settings()
    questionnaire = QuestionnaireStore(settings.cql_dir).questionnaire(base_url)
    prepopulator = Prepopulator(settings.cql_dir)
    return prepopulator.draft_for_request(questionnaire, request, now, canonical(base_url))
