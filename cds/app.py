"""HTTP: ``create_app(settings, clock=...)`` builds the service and mounts every door.

It builds the shared pieces once (the decision core, the database, the request limits, client
JWT authentication and SMART Backend Services when required, CORS for browser clients) and hands
them to each door's route registration: the CDS Hooks services and feedback
(``cds/hook_routes.py``), DTR (``cds/dtr/routes.py``), PAS (``cds/pas/routes.py``), SMART
(``cds/smart/routes.py``), the workbench (``cds/workbench/``). The shared HTTP helpers (audit of
every call, body limits, error answers) are in ``cds/http.py``. Only this HTTP layer knows status
codes; every error answer is an OperationOutcome and no traceback ever leaves the process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import time
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cds import openapi
from cds.client_auth import AuthPolicy, ClientAuthenticator, TrustedIssuer
from cds.db import Database
from cds.discovery import PREFETCH
from cds.dtr.artifacts import ArtifactStore
from cds.dtr.package import PackageService
from cds.dtr.routes import register_dtr_routes
from cds.evaluation import PolicyEngine
from cds.fhir_client import FhirClient, fetch_json
from cds.hook_routes import SERVICE_PATH, register_feedback_routes, register_hook_routes
from cds.http import Clock, Http, _forbidden, _json, _unauthenticated, outcome, served_base_url
from cds.limits import RequestLimits
from cds.order_dispatch import OrderDispatchService
from cds.order_select import OrderSelectService
from cds.order_sign import OrderSignService, ServiceConfig
from cds.pas.routes import register_pas_routes
from cds.pas.service import ClaimService
from cds.pas.store import ClaimStore
from cds.questionnaire import QuestionnaireStore, canonical
from cds.settings import Settings, get_settings
from cds.smart.access_token import TokenService, load_signing_key
from cds.smart.clients import load_registry
from cds.smart.guard import InsufficientScope, ResourceGuard, Unauthenticated, require_scopes
from cds.smart.routes import register_smart_routes
from cds.smart.token_endpoint import TokenEndpoint
from cds.workbench import workbench_routes

__all__ = ["SERVICE_PATH", "VERSION", "create_app", "outcome", "served_base_url"]

log = logging.getLogger("cds")
VERSION = "0.1.0"
# The workbench's activity view (the audit log) when authentication is on.
WORKBENCH_ACTIVITY_SCOPES = ("system/AuditEvent.rs",)
GC_YOUNG_THRESHOLD = 10_000  # allocations before the youngest generation is collected (see lifespan)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _auth_policy(settings: Settings) -> AuthPolicy:
    issuers = {}
    for iss, raw in settings.auth_issuers.items():
        jku = raw.get("jku") or []
        tenants = raw.get("tenants") or []
        jwks = raw.get("jwks")
        jwks_url = raw.get("jwks_url")
        issuers[iss] = TrustedIssuer(
            iss=iss,
            jku_allowlist=tuple(str(u) for u in (jku if isinstance(jku, list) else [jku])),
            jwks=jwks if isinstance(jwks, dict) else None,
            jwks_url=str(jwks_url) if jwks_url else None,
            tenants=tuple(str(t) for t in (tenants if isinstance(tenants, list) else [tenants])),
        )
    return AuthPolicy(issuers=issuers, algorithms=frozenset(settings.auth_algorithms))


def create_app(settings: Settings | None = None, clock: Clock = _utc_now) -> FastAPI:
    settings = settings or get_settings()
    engine = PolicyEngine(settings.cql_dir)  # parse and compile once, at start-up
    questionnaires = QuestionnaireStore(settings.cql_dir)
    fhir = FhirClient(
        settings.fhir_timeout_seconds, settings.fhir_max_pages, max_resources=settings.max_resources
    )
    config = ServiceConfig(
        settings.plan_name,
        settings.policy_url,
        settings.time_budget_seconds,
        questionnaire_version=questionnaires.version,
        dtr_app_url=settings.dtr_app_url,
    )
    service = OrderSignService(engine, fhir, config)
    # One decision core behind every door.
    dispatch_service = OrderDispatchService(service.core, fhir, config)
    select_service = OrderSelectService(service.core, config)
    limits = RequestLimits(
        settings.max_body_bytes,
        settings.max_json_depth,
        settings.max_draft_orders,
        settings.max_resources,
        settings.time_budget_seconds,
    )
    database = Database.from_settings(settings)
    claims = ClaimService(service.core, ClaimStore(database.engine))  # PAS: the same decision core
    artifacts = ArtifactStore(settings.cql_dir)  # DTR libraries: ELM written once, at start-up
    published = clock()
    packages = PackageService(artifacts, service.core, published)  # DTR: the same decision core
    auth_required = settings.auth_mode == "required"
    authenticator: ClientAuthenticator | None = None
    if auth_required:

        class _DbReplay:
            async def remember(self, key: str, expires_at: float) -> bool:
                # A database write (a network round trip on PostgreSQL): off the event loop, so
                # the worker's other requests go on meanwhile.
                return await asyncio.to_thread(database.remember_jti, key, expires_at, time.time())

        async def jwks(url: str) -> Any:
            return await fetch_json(url, settings.fhir_timeout_seconds)

        authenticator = ClientAuthenticator(_auth_policy(settings), jwks, _DbReplay())
    else:
        log.warning("CLIENT AUTHENTICATION IS OFF: every caller is trusted (embedded quick start only)")
        log.warning(
            "SMART BACKEND SERVICES ARE OFF: the FHIR routes (DTR, PAS $submit/$inquire) are open to "
            "anyone and every client sees every prior authorization (DLI_CDS_AUTH_MODE=required)"
        )
    tokens: TokenService | None = None
    token_endpoint: TokenEndpoint | None = None
    if auth_required:
        registry = load_registry(settings.smart_clients_file, settings.smart_clients)
        tokens = TokenService(load_signing_key(settings.smart_signing_key, settings.smart_signing_key_file))

        class _ClockReplay:
            async def remember(self, key: str, expires_at: float) -> bool:
                now = clock().timestamp()
                return await asyncio.to_thread(database.remember_jti, key, expires_at, now)

        async def client_jwks(url: str) -> Any:
            return await fetch_json(url, settings.fhir_timeout_seconds)

        token_endpoint = TokenEndpoint(registry, tokens, client_jwks, _ClockReplay())
        if not len(registry):
            log.warning("SMART Backend Services: no client is registered (dli-cds clients add)")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        database.purge(settings.audit_retention_days)
        # What start-up built (the compiled library, models, value sets) lives as long as the
        # process: keep it out of the collector's way so each request's collections stay short.
        gc.freeze()
        # A request's objects form no cycles (the engine's FHIR nodes hold no back-references)
        # and are freed by reference counting when it ends; but parsing a body and reading a
        # record allocate a few thousand containers at once, so at the default threshold (700)
        # the youngest generation was collected once per request, traversing them all for
        # nothing (~70 µs a request). At 10,000 it runs about once per hundred requests.
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        yield
        database.close()

    app = FastAPI(title="dli-cds", version=VERSION, lifespan=lifespan, docs_url=None, redoc_url=None)
    openapi_document = openapi.document(version=VERSION, auth_required=auth_required)
    app.openapi = lambda: openapi_document  # type: ignore[method-assign]
    app.state.database = database

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown paths (404) and methods (405) answer with an OperationOutcome too.
        code = {404: "not-found", 405: "not-supported"}.get(exc.status_code, "processing")
        response = outcome(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    app.state.settings = settings
    http = Http(settings, database, limits, clock, authenticator)
    app.state.smart = ResourceGuard(tokens, http.fhir_base, clock)

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(_request: Request, exc: Unauthenticated) -> Response:
        return _unauthenticated(exc)

    @app.exception_handler(InsufficientScope)
    async def insufficient_scope(_request: Request, exc: InsufficientScope) -> Response:
        return _forbidden(exc)

    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )

    register_hook_routes(app, http, service, dispatch_service, select_service)

    if settings.workbench_enabled:
        # Mounted (not included): HTML pages outside the OpenAPI document.
        app.mount(
            "/workbench",
            workbench_routes(
                service,
                database,
                settings.examples_dir,
                lambda r: canonical(http.base_url(r)),
                settings.cql_dir,
                clock,
                activity_dependencies=[Depends(require_scopes(*WORKBENCH_ACTIVITY_SCOPES))],
            ),
        )

    register_feedback_routes(app, http)

    @app.get("/health")
    async def health() -> Response:
        """Liveness, and how many audit rows this worker has not yet stored in the database."""
        audit_status = database.audit_log.status()
        ok = audit_status["database"] == "reachable"
        return _json({"status": "ok" if ok else "degraded", "audit": audit_status})

    register_dtr_routes(app, http, questionnaires, artifacts, packages, published)
    register_pas_routes(app, http, claims, questionnaires, token_endpoint)
    register_smart_routes(app, http, token_endpoint)

    app.state.prefetch = PREFETCH
    return app
