"""HTTP: the only module that imports FastAPI and knows status codes.

``create_app(settings, clock=...)`` builds the service: discovery, the ``order-sign`` service,
feedback, the DLI questionnaire, CORS for browser clients, client JWT authentication (when
required), request limits, and the audit log of every call. Every error answer is an
OperationOutcome; no traceback ever leaves the process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from starlette.datastructures import URL
from starlette.exceptions import HTTPException as StarletteHTTPException

from cds import openapi
from cds.client_auth import AuthenticationError, AuthPolicy, ClientAuthenticator, TrustedIssuer
from cds.db import Database
from cds.discovery import (
    DISPATCH_SERVICE_ID,
    HOOK,
    PREFETCH,
    SELECT_SERVICE_ID,
    SERVICE_ID,
    SERVICES,
    discovery_document,
)
from cds.dtr.artifacts import ArtifactStore, UnknownArtifact, expand
from cds.dtr.capability import capability_statement
from cds.dtr.package import PackageService
from cds.errors import (
    DataUnavailable,
    InvalidRequest,
    RequestTooLarge,
    ServiceError,
    StorageUnavailable,
    UnsupportedRequest,
)
from cds.evaluation import PolicyEngine
from cds.fhir_client import FhirClient, fetch_json
from cds.hook_response import HookAnswer
from cds.hooks import HookRequest, parse_feedback, parse_order_dispatch, parse_order_select, parse_order_sign
from cds.json_rules import cds_response, prune
from cds.limits import (
    Deadline,
    LimitExceeded,
    MalformedJson,
    RequestLimits,
    check_counts,
    parse_json_body,
)
from cds.order_dispatch import OrderDispatchService
from cds.order_select import OrderSelectService
from cds.order_sign import OrderSignService, ServiceConfig
from cds.pas.service import ClaimConflict, ClaimService, Submitter
from cds.pas.store import ClaimStore
from cds.questionnaire import QuestionnaireStore, canonical
from cds.settings import Settings, get_settings
from cds.smart import scopes as smart_scopes
from cds.smart.access_token import TokenService, load_signing_key
from cds.smart.clients import load_registry
from cds.smart.configuration import SMART_CONFIGURATION_PATH, TOKEN_PATH, smart_configuration
from cds.smart.guard import InsufficientScope, ResourceGuard, Unauthenticated, authorize, require_scopes
from cds.smart.token_endpoint import MAX_FORM_BYTES, OAuthError, TokenEndpoint, read_form
from cds.workbench import workbench_routes

log = logging.getLogger("cds")
Clock = Callable[[], dt.datetime]
STATUS = {
    InvalidRequest: 400,
    UnsupportedRequest: 422,
    DataUnavailable: 412,
    RequestTooLarge: 413,
    ClaimConflict: 409,
    StorageUnavailable: 503,
}
SERVICE_PATH = f"/cds-services/{SERVICE_ID}"
VERSION = "0.1.0"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# The workbench's activity view (the audit log) when authentication is on.
WORKBENCH_ACTIVITY_SCOPES = ("system/AuditEvent.rs",)
GC_YOUNG_THRESHOLD = 10_000  # allocations before the youngest generation is collected (see lifespan)


def _json(body: Any, status: int = 200, media_type: str = "application/json") -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media_type)


def outcome(status: int, code: str, message: str, where: str | None = None) -> Response:
    issue: dict[str, Any] = {
        "severity": "error" if status < 500 else "fatal",
        "code": code,
        "diagnostics": message,
    }
    if where:
        issue["expression"] = [where]
    return _json({"resourceType": "OperationOutcome", "issue": [issue]}, status, "application/fhir+json")


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
    app.state.smart = ResourceGuard(tokens, lambda r: fhir_base(r), clock)

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

    def base_url(request: Request) -> str:
        return settings.public_base_url.rstrip("/") or served_base_url(request)

    def fhir_base(request: Request) -> str:
        return base_url(request) + "/fhir"

    async def authenticate(request: Request, paths: list[str]) -> str | None:
        """The verified issuer, the token's audience being one of ``paths`` under the base URL."""
        if authenticator is None:
            return None
        base = base_url(request)
        verified = await authenticator.verify(request.headers.get("authorization"), [base + p for p in paths])
        return verified.iss

    async def body_of(request: Request, deadline: Deadline) -> dict[str, Any]:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limits.max_body_bytes:
            raise LimitExceeded("body-size", f"request body of {declared} bytes exceeds the limit")
        chunks: list[bytes] = []
        size = 0

        async def read() -> None:
            nonlocal size
            async for chunk in request.stream():
                chunks.append(chunk)
                size += len(chunk)
                if size > limits.max_body_bytes:
                    raise LimitExceeded(
                        "body-size", f"request body exceeds the limit of {limits.max_body_bytes} bytes"
                    )

        try:
            async with asyncio.timeout(deadline.remaining()):
                await read()
        except TimeoutError:
            raise LimitExceeded(
                "time-budget",
                f"the request body did not arrive within the time budget of {limits.time_budget_seconds} s",
            ) from None
        return parse_json_body(b"".join(chunks), limits)

    async def guarded(handler: Callable[[], Awaitable[Response]]) -> Response:
        try:
            return await handler()
        except AuthenticationError as exc:
            log.info("unauthenticated call refused: %s", exc)
            return Response(status_code=401)
        except Unauthenticated as exc:
            log.info("FHIR call without an acceptable access token: %s", exc)
            return _unauthenticated(exc)
        except InsufficientScope as exc:
            return _forbidden(exc)
        except LimitExceeded as exc:
            status = {"body-size": 413, "time-budget": 408}.get(exc.limit, 400)
            return outcome(status, "timeout" if status == 408 else "too-costly", str(exc))
        except MalformedJson as exc:
            return outcome(400, "structure", str(exc))
        except ServiceError as exc:
            return outcome(STATUS.get(type(exc), 500), exc.code, exc.message, exc.where)
        except Exception:
            log.exception("internal error")
            return outcome(500, "exception", "internal error: the service could not answer this request")

    @app.get("/cds-services")
    async def discovery(request: Request) -> Response:
        async def run() -> Response:
            await authenticate(request, ["/cds-services"])
            return _json(prune(discovery_document(auth_off=not auth_required)))

        return await guarded(run)

    def hook_endpoint(
        service_id: str,
        hook: str,
        parse: Callable[[dict[str, Any], str], HookRequest],
        answer: Callable[[Any, dt.datetime, str, Deadline], Awaitable[HookAnswer]],
        orders: Callable[[Any], int],
    ) -> Callable[[Request], Awaitable[Response]]:
        path = f"/cds-services/{service_id}"

        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            deadline = Deadline(limits.time_budget_seconds)
            audit: dict[str, Any] = {"endpoint": hook, "service": service_id}

            async def run() -> Response:
                iss = await authenticate(request, [path])
                audit["client_iss"] = iss
                body = await body_of(request, deadline)
                audit["hook_instance"] = (
                    str(body.get("hookInstance"))[:200] if body.get("hookInstance") else None
                )
                parsed = parse(body, hook)
                audit["patient_id"] = parsed.patient_id
                check_counts(orders(parsed), limits)
                result = await answer(parsed, clock(), canonical(base_url(request)), deadline)
                audit["orders"] = result.orders
                return _json(cds_response(result.body))

            response = await guarded(run)
            return await _audit(database, audit, response, started)

        return endpoint

    order_sign = hook_endpoint(
        SERVICE_ID,
        HOOK,
        parse_order_sign,
        lambda r, now, q, d: service.handle(r, now=now, questionnaire_url=q, deadline=d),
        lambda r: len(r.orders),
    )
    order_dispatch = hook_endpoint(
        DISPATCH_SERVICE_ID,
        "order-dispatch",
        parse_order_dispatch,
        lambda r, now, q, d: dispatch_service.handle(r, now=now, questionnaire_url=q, deadline=d),
        lambda r: len(r.context.references),
    )
    order_select = hook_endpoint(
        SELECT_SERVICE_ID,
        "order-select",
        parse_order_select,
        lambda r, now, q, d: select_service.handle(r, now=now, questionnaire_url=q, deadline=d),
        lambda r: len(r.orders),
    )

    app.add_route(SERVICE_PATH, order_sign, methods=["POST"])
    app.add_route(f"/cds-services/{DISPATCH_SERVICE_ID}", order_dispatch, methods=["POST"])
    app.add_route(f"/cds-services/{SELECT_SERVICE_ID}", order_select, methods=["POST"])

    if settings.workbench_enabled:
        # Mounted (not included): HTML pages outside the OpenAPI document.
        app.mount(
            "/workbench",
            workbench_routes(
                service,
                database,
                settings.examples_dir,
                lambda r: canonical(base_url(r)),
                settings.cql_dir,
                clock,
                activity_dependencies=[Depends(require_scopes(*WORKBENCH_ACTIVITY_SCOPES))],
            ),
        )

    def feedback_endpoint(service_id: str) -> Callable[[Request], Awaitable[Response]]:
        path = f"/cds-services/{service_id}"

        async def feedback(request: Request) -> Response:
            started = time.perf_counter()
            audit: dict[str, Any] = {"endpoint": "feedback", "service": service_id}

            async def run() -> Response:
                audit["client_iss"] = await authenticate(request, [f"{path}/feedback", path])
                parsed = parse_feedback(await body_of(request, Deadline(limits.time_budget_seconds)))
                items = [i.model_dump(exclude_none=True) for i in parsed.feedback]
                await asyncio.to_thread(database.record_feedback, service_id, items)
                return Response(status_code=200)

            response = await guarded(run)
            return await _audit(database, audit, response, started)

        return feedback

    for service_id in SERVICES.values():
        app.add_route(f"/cds-services/{service_id}/feedback", feedback_endpoint(service_id), methods=["POST"])

    @app.get("/health")
    async def health() -> Response:
        """Liveness, and how many audit rows this worker has not yet stored in the database."""
        audit_status = database.audit_log.status()
        ok = audit_status["database"] == "reachable"
        return _json({"status": "ok" if ok else "degraded", "audit": audit_status})

    # ------------------------------------------------------------------ FHIR: DTR (cds/dtr/)
    # Every DTR route is declared here, in one place (Questionnaire, Library, ValueSet, metadata).
    fhir_json = "application/fhir+json"

    def not_found(what: str) -> Response:
        return outcome(404, "not-found", f"{what} is not known to this server")

    def searchset(resources: list[dict[str, Any]], base: str) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(resources),
            "entry": [
                {
                    "fullUrl": f"{base}/fhir/{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in resources
            ],
        }

    async def questionnaire(request: Request) -> Response:
        return _json(questionnaires.questionnaire(base_url(request)), media_type=fhir_json)

    async def questionnaire_search(request: Request) -> Response:
        url = request.query_params.get("url")
        return _json(questionnaires.search(base_url(request), url), media_type=fhir_json)

    async def questionnaire_package(request: Request) -> Response:
        deadline = Deadline(limits.time_budget_seconds)

        async def run() -> Response:
            body = await body_of(request, deadline)
            result = await packages.package(
                body,
                questionnaire=questionnaires.questionnaire(base_url(request)),
                now=clock(),
                deadline=deadline,
            )
            return _json(result, media_type=fhir_json)

        return await guarded(run)

    async def library_read(request: Request) -> Response:
        try:
            return _json(artifacts.library(request.path_params["id"]), media_type=fhir_json)
        except UnknownArtifact:
            return not_found(f"Library/{request.path_params['id']}")

    async def library_search(request: Request) -> Response:
        found = artifacts.search_libraries(request.query_params.get("url"))
        return _json(searchset(found, base_url(request)), media_type=fhir_json)

    async def valueset_read(request: Request) -> Response:
        try:
            return _json(artifacts.valueset(request.path_params["id"]), media_type=fhir_json)
        except UnknownArtifact:
            return not_found(f"ValueSet/{request.path_params['id']}")

    async def valueset_search(request: Request) -> Response:
        found = artifacts.search_valuesets(request.query_params.get("url"))
        return _json(searchset(found, base_url(request)), media_type=fhir_json)

    async def valueset_expand(request: Request) -> Response:
        deadline = Deadline(limits.time_budget_seconds)

        async def run() -> Response:
            if request.method == "GET":
                url = request.query_params.get("url")
            else:
                body = await body_of(request, deadline)
                url = expand_url(body)
            if not url:
                raise InvalidRequest("$expand needs a url (a ValueSet canonical)", "url")
            try:
                return _json(expand(artifacts.valueset(url), clock().isoformat()), media_type=fhir_json)
            except UnknownArtifact:
                return not_found(f"ValueSet {url}")

        return await guarded(run)

    async def metadata(request: Request) -> Response:
        return _json(capability_statement(base_url(request), published), media_type=fhir_json)

    dtr_routes: list[tuple[str, Callable[[Request], Awaitable[Response]], list[str]]] = [
        ("/fhir/metadata", metadata, ["GET"]),
        ("/fhir/Questionnaire", questionnaire_search, ["GET"]),
        ("/fhir/Questionnaire/$questionnaire-package", questionnaire_package, ["POST"]),
        ("/fhir/Questionnaire/dli-cp-mp-101", questionnaire, ["GET"]),
        ("/fhir/Library", library_search, ["GET"]),
        ("/fhir/Library/{id}", library_read, ["GET"]),
        ("/fhir/ValueSet", valueset_search, ["GET"]),
        ("/fhir/ValueSet/$expand", valueset_expand, ["GET", "POST"]),
        ("/fhir/ValueSet/{id}", valueset_read, ["GET"]),
    ]

    def fhir_route(path: str, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """``handler`` behind its SMART scope check (``cds/smart/scopes.py``, by path; open when the
        path is not there) and the one audit path: every call's row is durable before its answer.
        Only the package's answer is stored in the row (the artifacts are the server's own)."""
        requirement = smart_scopes.ROUTE_SCOPES.get(path)
        name = "dtr-" + path.removeprefix("/fhir/").replace("/", "-").replace("$", "").replace("{id}", "read")

        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            audit: dict[str, Any] = {
                "endpoint": name,
                "service": "dtr",
                "secret_response": not path.endswith("$questionnaire-package"),
            }

            async def run() -> Response:
                if requirement is not None:
                    principal = await authorize(request, requirement)
                    audit["client_iss"] = None if principal is None else principal.client_id
                return await handler(request)

            response = await guarded(run)
            return await _audit(database, audit, response, started)

        return endpoint

    for path, handler, methods in dtr_routes:
        app.add_route(path, fhir_route(path, handler), methods=methods)

    # ------------------------------------------------------------------ PAS (cds/pas/)
    async def pas_operation(request: Request, endpoint: str) -> Response:
        started = time.perf_counter()
        deadline = Deadline(limits.time_budget_seconds)
        audit: dict[str, Any] = {"endpoint": endpoint, "service": "pas"}

        async def run() -> Response:
            submitting = endpoint == "pas-submit"
            principal = await authorize(
                request, smart_scopes.CLAIM_SUBMIT if submitting else smart_scopes.CLAIM_INQUIRE
            )
            submitter = None if principal is None else token_endpoint_client(principal.client_id)
            audit["client_iss"] = None if principal is None else principal.client_id
            body = await body_of(request, deadline)
            if submitting:
                result = await claims.submit(
                    body,
                    now=clock(),
                    questionnaire_url=canonical(base_url(request)),
                    deadline=deadline,
                    submitter=submitter,
                    questionnaire_version=questionnaires.version,
                )
                audit["patient_id"] = result.patient_id
                audit["orders"] = result.orders
                return _json(result.body, media_type="application/fhir+json")
            found, audit["patient_id"] = await claims.inquire(body, now=clock(), caller=submitter)
            return _json(found, media_type="application/fhir+json")

        response = await guarded(run)
        return await _audit(database, audit, response, started)

    async def pas_submit(request: Request) -> Response:
        return await pas_operation(request, "pas-submit")

    async def pas_inquire(request: Request) -> Response:
        return await pas_operation(request, "pas-inquire")

    app.add_route("/fhir/Claim/$submit", pas_submit, methods=["POST"])
    app.add_route("/fhir/Claim/$inquire", pas_inquire, methods=["POST"])

    # ------------------------------------------------------------------ SMART (cds/smart/)
    def token_endpoint_client(client_id: str) -> Submitter:
        """The calling client and the organizations it is registered for (none if it has been
        unregistered since its token was issued: it then sees nothing)."""
        registered = token_endpoint.client(client_id) if token_endpoint is not None else None
        return Submitter(client_id, registered.organizations if registered is not None else ())

    @app.get("/fhir" + SMART_CONFIGURATION_PATH)
    async def smart_configuration_document(request: Request) -> Response:
        return _json(smart_configuration(fhir_base(request), auth_required=auth_required))

    @app.post("/fhir" + TOKEN_PATH)
    async def token(request: Request) -> Response:
        started = time.perf_counter()
        # The response holds the access token: never stored in the audit row.
        audit: dict[str, Any] = {"endpoint": "smart-token", "service": "smart", "secret_response": True}

        async def run() -> Response:
            if token_endpoint is None:
                raise OAuthError(
                    "invalid_request", "authentication is off on this server: FHIR calls need no token"
                )
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
                raise OAuthError("invalid_request", f"the token request exceeds {MAX_FORM_BYTES} bytes")
            body = bytearray()
            try:
                async with asyncio.timeout(limits.time_budget_seconds):
                    async for chunk in request.stream():
                        body += chunk
                        if len(body) > MAX_FORM_BYTES:
                            raise OAuthError(
                                "invalid_request", f"the token request exceeds {MAX_FORM_BYTES} bytes"
                            )
            except TimeoutError:
                raise OAuthError("invalid_request", "the token request did not arrive in time") from None
            form = read_form(bytes(body), request.headers.get("content-type"))
            granted = await token_endpoint.exchange(
                form, fhir_base(request) + TOKEN_PATH, fhir_base(request), clock().timestamp()
            )
            audit["client_iss"] = granted.client_id
            return _no_store(_json(granted.body()))

        try:
            response = await run()
        except OAuthError as exc:
            log.info("token request refused: %s", exc.error)
            status = 401 if exc.error == "invalid_client" else 400
            response = _no_store(_json(exc.body(), status))
        except Exception:
            log.exception("internal error in the token endpoint")
            response = _no_store(
                _json({"error": "server_error", "error_description": "the token could not be issued"}, 500)
            )
        return await _audit(database, audit, response, started)

    app.state.prefetch = PREFETCH
    return app


def expand_url(body: Any) -> str | None:
    """The ``url`` of a ``$expand`` Parameters body (valueUri or valueCanonical)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidRequest("the $expand body must be a Parameters resource", "Parameters")
    parameters = body.get("parameter")
    if not isinstance(parameters, list):
        raise InvalidRequest("Parameters.parameter must be a list", "Parameters.parameter")
    for p in parameters:
        if isinstance(p, dict) and p.get("name") == "url":
            value = p.get("valueUri", p.get("valueCanonical"))
            if isinstance(value, str):
                return value
    return None


def served_base_url(request: Request) -> str:
    """``str(request.base_url)`` without its trailing slash: the address the client called.
    Starlette builds it anew for every request (a URL parse, ~20 µs); it depends only on the
    scheme, the Host header, the server address and the root path, so it is built once per
    combination of those (a bounded cache: a client inventing Host headers only churns it)."""
    scope = request.scope
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    server = scope.get("server")
    return _base_url(
        scope.get("scheme", "http"),
        host,
        tuple(server) if server is not None else None,
        scope.get("app_root_path", scope.get("root_path", "")),
    )


@lru_cache(maxsize=256)
def _base_url(scheme: str, host: bytes | None, server: tuple[Any, ...] | None, root_path: str) -> str:
    scope = {
        "type": "http",
        "scheme": scheme,
        "server": server,
        "path": root_path if root_path.endswith("/") else root_path + "/",
        "query_string": b"",
        "root_path": root_path,
        "headers": [] if host is None else [(b"host", host)],
    }
    return str(URL(scope=scope)).rstrip("/")


def _no_store(response: Response) -> Response:
    response.headers.update(NO_STORE)
    return response


def _unauthenticated(exc: Unauthenticated) -> Response:
    response = outcome(401, "login", "this FHIR operation needs a valid SMART Backend Services access token")
    response.headers["WWW-Authenticate"] = exc.www_authenticate
    return response


def _forbidden(exc: InsufficientScope) -> Response:
    response = outcome(403, "forbidden", str(exc))
    response.headers["WWW-Authenticate"] = exc.www_authenticate
    return response


async def _audit(database: Database, audit: dict[str, Any], response: Response, started: float) -> Response:
    """Store the call's audit row durably, then give back the response to send: ``response``,
    or a 503 OperationOutcome when the row could not be stored (no answer without its record).
    Every route ends with ``return await _audit(database, audit, response, started)``."""
    body = bytes(response.body) if getattr(response, "body", None) else b""
    if audit.get("secret_response"):
        body = b""
    orders = audit.get("orders")
    try:
        await database.audit_log.record(
            {
                "at": dt.datetime.now(dt.UTC),
                "service": audit.get("service", SERVICE_ID),
                "endpoint": audit["endpoint"],
                "hook_instance": audit.get("hook_instance"),
                "client_iss": audit.get("client_iss"),
                "patient_id": audit.get("patient_id"),
                "orders": orjson.dumps(orders).decode() if orders else None,
                "status": response.status_code,
                "latency_ms": (time.perf_counter() - started) * 1000,
                "response": body.decode("utf-8", "replace") if body else None,
            }
        )
    except StorageUnavailable as exc:
        unavailable = outcome(503, exc.code, exc.message, exc.where)
        unavailable.headers["Retry-After"] = "5"
        return unavailable
    except Exception:  # a route's entry the table refuses (a bug): never the answer without it
        log.exception("the audit row could not be handed over")
        return outcome(500, "exception", "internal error: the call's audit record could not be stored")
    return response
