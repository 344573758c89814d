"""HTTP: the DTR door — the FHIR routes for the questionnaire, its package, the CQL Libraries,
the ValueSets and the CapabilityStatement. Every DTR route is declared here, in one place; each
is behind its SMART scope check and leaves an audit row."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from cds.dtr.artifacts import ArtifactStore, UnknownArtifact, expand
from cds.dtr.capability import capability_statement
from cds.dtr.package import PackageService
from cds.errors import InvalidRequest
from cds.http import FHIR_JSON, Handler, Http, _json, outcome
from cds.limits import Deadline
from cds.questionnaire import QuestionnaireStore
from cds.smart import scopes as smart_scopes
from cds.smart.configuration import capability_security
from cds.smart.guard import authorize


def register_dtr_routes(
    app: FastAPI,
    http: Http,
    questionnaires: QuestionnaireStore,
    artifacts: ArtifactStore,
    packages: PackageService,
    published: dt.datetime,
) -> None:
    """The DTR FHIR routes on ``app``."""
    fhir_json = FHIR_JSON
    base_url = http.base_url

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
        deadline = Deadline(http.limits.time_budget_seconds)

        async def run() -> Response:
            body = await http.body_of(request, deadline)
            result = await packages.package(
                body,
                questionnaire=questionnaires.questionnaire(base_url(request)),
                now=http.clock(),
                deadline=deadline,
            )
            return _json(result, media_type=fhir_json)

        return await http.guarded(run)

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
        deadline = Deadline(http.limits.time_budget_seconds)

        async def run() -> Response:
            if request.method == "GET":
                url = request.query_params.get("url")
            else:
                body = await http.body_of(request, deadline)
                url = expand_url(body)
            if not url:
                raise InvalidRequest("$expand needs a url (a ValueSet canonical)", "url")
            try:
                return _json(expand(artifacts.valueset(url), http.clock().isoformat()), media_type=fhir_json)
            except UnknownArtifact:
                return not_found(f"ValueSet {url}")

        return await http.guarded(run)

    async def metadata(request: Request) -> Response:
        security = capability_security(http.fhir_base(request)) if http.auth_required else None
        return _json(capability_statement(base_url(request), published, security), media_type=fhir_json)

    dtr_routes: list[tuple[str, Handler, list[str]]] = [
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

    def fhir_route(path: str, handler: Handler) -> Handler:
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

            response = await http.guarded(run)
            return await http.audit(audit, response, started)

        return endpoint

    for path, handler, methods in dtr_routes:
        app.add_route(path, fhir_route(path, handler), methods=methods)


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
