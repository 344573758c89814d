"""HTTP: the PAS door — ``Claim/$submit`` and ``Claim/$inquire``, behind their SMART scopes;
every call leaves an audit row."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from cds.http import Http, _json
from cds.limits import Deadline
from cds.pas.service import ClaimService, Submitter
from cds.questionnaire import QuestionnaireStore, canonical
from cds.smart import scopes as smart_scopes
from cds.smart.guard import authorize
from cds.smart.token_endpoint import TokenEndpoint


def register_pas_routes(
    app: FastAPI,
    http: Http,
    claims: ClaimService,
    questionnaires: QuestionnaireStore,
    token_endpoint: TokenEndpoint | None,
) -> None:
    """The PAS operations on ``app``."""

    def token_endpoint_client(client_id: str) -> Submitter:
        """The calling client and the organizations it is registered for (none if it has been
        unregistered since its token was issued: it then sees nothing)."""
        registered = token_endpoint.client(client_id) if token_endpoint is not None else None
        return Submitter(client_id, registered.organizations if registered is not None else ())

    async def pas_operation(request: Request, endpoint: str) -> Response:
        started = time.perf_counter()
        deadline = Deadline(http.limits.time_budget_seconds)
        audit: dict[str, Any] = {"endpoint": endpoint, "service": "pas"}

        async def run() -> Response:
            submitting = endpoint == "pas-submit"
            principal = await authorize(
                request, smart_scopes.CLAIM_SUBMIT if submitting else smart_scopes.CLAIM_INQUIRE
            )
            submitter = None if principal is None else token_endpoint_client(principal.client_id)
            audit["client_iss"] = None if principal is None else principal.client_id
            body = await http.body_of(request, deadline)
            if submitting:
                result = await claims.submit(
                    body,
                    now=http.clock(),
                    questionnaire_url=canonical(http.base_url(request)),
                    deadline=deadline,
                    submitter=submitter,
                    questionnaire_version=questionnaires.version,
                )
                audit["patient_id"] = result.patient_id
                audit["orders"] = result.orders
                return _json(result.body, media_type="application/fhir+json")
            found, audit["patient_id"] = await claims.inquire(body, now=http.clock(), caller=submitter)
            return _json(found, media_type="application/fhir+json")

        response = await http.guarded(run)
        return await http.audit(audit, response, started)

    async def pas_submit(request: Request) -> Response:
        return await pas_operation(request, "pas-submit")

    async def pas_inquire(request: Request) -> Response:
        return await pas_operation(request, "pas-inquire")

    app.add_route("/fhir/Claim/$submit", pas_submit, methods=["POST"])
    app.add_route("/fhir/Claim/$inquire", pas_inquire, methods=["POST"])
