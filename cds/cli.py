"""The ``dli-cds`` command.

```
dli-cds serve [--host 127.0.0.1] [--port 8080] [--workers 1] [--certfile F --keyfile F]
dli-cds evaluate REQUEST.json [--now ISO-DATETIME] [--base-url URL]
dli-cds audit [--patient ID] [--hook-instance ID] [--limit N] [--purge]
dli-cds pas submit BUNDLE.json [--now ISO-DATETIME] [--base-url URL]
dli-cds clients add CLIENT_ID (--jwks-url URL | --jwks-file F) --scope S [--npi NPI] | list
dli-cds dtr package --order F --coverage F | dtr prepopulate REQUEST.json
dli-cds cql check|run ...
```
``evaluate`` prints the response and a criterion-by-criterion trace (status, reason, the free
text each criterion read, its evidence); its exit status is 0 for criteria met or nothing in
scope, 10 not medically necessary, 11 documentation needed, 12 indeterminate, 2 for a request
that cannot be answered (a missing or unreadable file, not JSON, not an order-sign request), said
in one line, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cds.cli_clock import clock
from cds.cql import cli as cql_cli
from cds.dtr import cli as dtr_cli
from cds.pas import cli as pas_cli
from cds.smart import cli as clients_cli

EXIT_BY_OUTCOME = {"not-medically-necessary": 10, "documentation-needed": 11, "indeterminate": 12}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dli-cds", description="DLI (CP.MP.101) CDS Hooks + CRD service")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the CDS Hooks service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--certfile", default=None, help="TLS certificate (PEM)")
    serve.add_argument("--keyfile", default=None, help="TLS private key (PEM)")
    evaluate = commands.add_parser("evaluate", help="answer one order-sign request from a file")
    evaluate.add_argument("request", type=Path)
    evaluate.add_argument("--now", default=None, help="the clock (ISO date-time with offset)")
    evaluate.add_argument("--base-url", default="http://127.0.0.1:8080")
    audit = commands.add_parser("audit", help="query the audit log")
    audit.add_argument("--patient", default=None)
    audit.add_argument("--hook-instance", default=None)
    audit.add_argument("--limit", type=int, default=20)
    audit.add_argument("--purge", action="store_true", help="delete entries older than the retention setting")
    pas_cli.register(commands)
    clients_cli.register(commands)
    dtr_cli.register(commands)
    cql_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "evaluate":
        return _evaluate(args)
    if args.command == "audit":
        return _audit(args)
    if args.command == "pas":
        return pas_cli.run(args)
    if args.command == "clients":
        return clients_cli.run(args)
    if args.command == "dtr":
        return dtr_cli.run(args)
    return cql_cli.run(args)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from cds.settings import get_settings

    settings = get_settings()
    if settings.auth_mode == "required":
        # Refuse a bad client registry or signing key here, with a message, not in each worker.
        from cds.smart.access_token import SigningKeyError, load_signing_key
        from cds.smart.clients import ClientConfigurationError, load_registry

        try:
            load_registry(settings.smart_clients_file, settings.smart_clients)
            load_signing_key(settings.smart_signing_key, settings.smart_signing_key_file)
        except (ClientConfigurationError, SigningKeyError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if settings.auth_mode != "required":
        print(
            "WARNING: client authentication is OFF (DLI_CDS_AUTH_MODE=required turns it on): the CDS "
            "hooks and the FHIR routes (DTR, PAS $submit/$inquire) are open to anyone, and every caller "
            "sees every prior authorization",
            file=sys.stderr,
        )
    uvicorn.run(
        "cds.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level,
        ssl_certfile=args.certfile,
        ssl_keyfile=args.keyfile,
        access_log=False,
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from cds.cql.errors import CqlError
    from cds.errors import ServiceError
    from cds.evaluation import PolicyEngine
    from cds.fhir_client import FhirClient
    from cds.hooks import parse_order_sign
    from cds.json_rules import cds_response
    from cds.order_sign import OrderSignService, ServiceConfig
    from cds.questionnaire import QuestionnaireStore, canonical
    from cds.settings import get_settings

    try:
        now = clock(args.now)
        body = _request_body(args.request)
        request = parse_order_sign(body, "order-sign")
    except (ServiceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = get_settings()
    engine = PolicyEngine(settings.cql_dir)
    service = OrderSignService(
        engine,
        FhirClient(settings.fhir_timeout_seconds, settings.fhir_max_pages),
        ServiceConfig(
            settings.plan_name,
            settings.policy_url,
            settings.time_budget_seconds,
            questionnaire_version=QuestionnaireStore(settings.cql_dir).version,
            dtr_app_url=settings.dtr_app_url,
        ),
    )
    try:
        result = asyncio.run(service.handle(request, now=now, questionnaire_url=canonical(args.base_url)))
    except (ServiceError, CqlError, ValueError) as exc:
        print(f"error: {request.hook} request {args.request}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(cds_response(result.body), indent=2))
    _trace(engine, request, now, canonical(args.base_url))
    worst = 0
    for entry in result.orders:
        worst = max(worst, EXIT_BY_OUTCOME.get(entry["outcome"], 0))
    return worst


def _request_body(path: Path) -> dict[str, Any]:
    """The request file's JSON object; a ValueError saying what is wrong with the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the file ({exc.__class__.__name__}: {exc})") from None
    try:
        body = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: not JSON ({str(exc) or 'nested too deeply'})") from None
    if not isinstance(body, dict):
        raise ValueError(f"{path}: not a CDS Hooks request (a JSON {type(body).__name__}, not an object)")
    return body


def _trace(engine: Any, request: Any, now: dt.datetime, questionnaire_url: str) -> None:
    """The criterion-by-criterion trace on stderr: each criterion's status, reason, the free text
    it read (its quotes) and its evidence. A record the engine cannot evaluate is said, not
    raised (the response above already carries the service's answer)."""
    from cds.cql.errors import CqlError
    from cds.decision_core import merge
    from cds.discovery import PREFETCH
    from cds.policy import decide
    from cds.prefetch import read_prefetch

    orders = [o for o in request.orders if o.get("resourceType") == "ServiceRequest"]
    try:
        record = merge(read_prefetch(request, PREFETCH).resources)
    except (CqlError, ValueError) as exc:
        print(f"\ntrace: the prefetched record cannot be read: {exc}", file=sys.stderr)
        return
    for order in orders:
        name = f"ServiceRequest/{order.get('id')}"
        try:
            decision = decide(order, engine.evaluate(order, orders, record, now, questionnaire_url))
        except (CqlError, ValueError, KeyError, TypeError) as exc:
            print(f"\n{name}: no trace: {exc.__class__.__name__}: {exc}", file=sys.stderr)
            continue
        print(f"\n{name}: in scope {decision.in_scope}, outcome {decision.outcome or '-'}", file=sys.stderr)
        if not decision.in_scope:
            continue
        for line in _criterion_lines(decision.criteria):
            print(line, file=sys.stderr)
        if decision.reason:
            print(f"  reason: {decision.reason}", file=sys.stderr)


def _criterion_lines(criteria: Sequence[Any]) -> list[str]:
    """One line per criterion (label, status, reason, evidence references), then one indented
    line per quote of the free text it read. A null field prints as '-'."""
    lines = []
    for row in criteria:
        evidence = ", ".join(f"{e.get('resourceType') or '?'}/{e.get('id') or '?'}" for e in row.evidence)
        lines.append(
            f"  {row.label or '-':6s} {row.status or '-':8s} {row.reason or '-'}"
            + (f" [{evidence}]" if evidence else "")
        )
        lines.extend(f"         text: {quote}" for quote in row.quotes)
    return lines


def _audit(args: argparse.Namespace) -> int:
    from cds.db import Database
    from cds.settings import get_settings

    settings = get_settings()
    database = Database.from_settings(settings)
    try:
        if args.purge:
            print(f"purged {database.purge(settings.audit_retention_days)} entries")
            return 0
        for row in database.audit_rows(
            patient_id=args.patient, hook_instance=args.hook_instance, limit=args.limit
        ):
            row = dict(row)
            row["at"] = row["at"].isoformat() if row.get("at") else None
            print(json.dumps(row, default=str))
    finally:
        database.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
