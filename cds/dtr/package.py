"""``$questionnaire-package`` (Da Vinci DTR 2.1, type level on Questionnaire).

Input Parameters (DTR input profile; 2.2's names accepted too): ``coverage`` (resource, 1..1),
``order`` (resources, 0..*), ``questionnaire`` (canonicals, 0..*), ``context`` (the CRD
``coverage-assertion-id``), ``changedsince`` (instant); at least one of order, questionnaire,
context (dtr-1). Output Parameters: one ``PackageBundle`` (a ``collection`` Bundle) per
questionnaire — the Questionnaire first, every Library it names by ``cqf-library`` and their
``depends-on`` closure, every ValueSet those use (expanded), one draft QuestionnaireResponse —
and ``operationOutcome`` warnings for requested questionnaires we do not have.

When orders are given, whether documentation is needed is decided by the decision core (never a
second path), on what the request carries (the orders, the coverage, any other resources):
no DLI order in scope, or every DLI order decided without missing facts, gives no package and
an informational outcome saying why (DTR §oper-8). Bad input raises
:class:`cds.errors.InvalidRequest` (naming the parameter).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from cds.decision_core import CaseInput, DecisionCore
from cds.dtr.artifacts import EXPAND_BELOW, ArtifactStore, code_count, expand
from cds.dtr.prepopulation import draft_response
from cds.errors import InvalidRequest
from cds.limits import Deadline

CQF_LIBRARY = "http://hl7.org/fhir/StructureDefinition/cqf-library"
PACKAGE_PARAMETER = "PackageBundle"
OUTCOME_PARAMETER = "operationOutcome"
_ACCEPTED = {"coverage", "order", "questionnaire", "context", "changedsince", "referenced"}


@dataclass(frozen=True)
class PackageRequest:
    coverage: dict[str, Any]
    orders: list[dict[str, Any]]
    questionnaires: list[str]
    context: str | None
    changed_since: dt.datetime | None
    referenced: list[dict[str, Any]]


def parse_request(body: Any) -> PackageRequest:
    """The operation's input, checked (InvalidRequest names the parameter that is wrong)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidRequest("the body must be a Parameters resource", "Parameters")
    params = body.get("parameter")
    if not isinstance(params, list):
        raise InvalidRequest("Parameters.parameter must be a list", "Parameters.parameter")
    coverage: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    questionnaires: list[str] = []
    contexts: list[str] = []
    changed: list[dt.datetime] = []
    referenced: list[dict[str, Any]] = []
    for i, p in enumerate(params):
        where = f"Parameters.parameter[{i}]"
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            raise InvalidRequest("each parameter needs a name", where)
        name = p["name"]
        if name not in _ACCEPTED:
            raise InvalidRequest(f"unknown parameter {name!r}", where)
        if name in ("coverage", "order", "referenced"):
            resource = p.get("resource")
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                raise InvalidRequest(f"{name} must carry a resource", where)
            if name == "coverage" and resource["resourceType"] != "Coverage":
                raise InvalidRequest("coverage must be a Coverage", where)
            if not isinstance(resource.get("id"), str):
                raise InvalidRequest(f"the {name} resource needs an id", where)
            {"coverage": coverage, "order": orders, "referenced": referenced}[name].append(resource)
        elif name == "questionnaire":
            value = p.get("valueCanonical")
            if not isinstance(value, str) or not value:
                raise InvalidRequest("questionnaire must be a valueCanonical", where)
            questionnaires.append(value)
        elif name == "context":
            value = p.get("valueString", p.get("valueId"))
            if not isinstance(value, str) or not value:
                raise InvalidRequest("context must be a valueString", where)
            contexts.append(value)
        else:
            value = p.get("valueInstant", p.get("valueDateTime"))
            try:
                changed.append(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")))
            except ValueError:
                raise InvalidRequest("changedsince must be a valueInstant", where) from None
    if len(coverage) != 1:
        raise InvalidRequest(f"exactly one coverage is required, got {len(coverage)}", "Parameters.parameter")
    if len(contexts) > 1 or len(changed) > 1:
        raise InvalidRequest("context and changedsince may be given once", "Parameters.parameter")
    if not (orders or questionnaires or contexts):
        raise InvalidRequest(
            "one of order, questionnaire or context is required (dtr-1)", "Parameters.parameter"
        )
    since = changed[0] if changed else None
    if since is not None and since.tzinfo is None:
        raise InvalidRequest("changedsince needs a time zone", "Parameters.parameter")
    return PackageRequest(
        coverage[0], orders, questionnaires, contexts[0] if contexts else None, since, referenced
    )


def _issue(severity: str, code: str, text: str) -> dict[str, Any]:
    return {"severity": severity, "code": code, "details": {"text": text}}


def _outcome(issues: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": issues}


def _patient(request: PackageRequest) -> str | None:
    beneficiary = request.coverage.get("beneficiary")
    ref = beneficiary.get("reference") if isinstance(beneficiary, dict) else None
    return ref if isinstance(ref, str) else None


class PackageService:
    def __init__(self, artifacts: ArtifactStore, core: DecisionCore, published: dt.datetime) -> None:
        self.artifacts = artifacts
        self.core = core
        self.published = published  # when this service's questionnaire and libraries were loaded

    async def package(
        self, body: Any, *, questionnaire: dict[str, Any], now: dt.datetime, deadline: Deadline
    ) -> dict[str, Any]:
        """The operation's output Parameters for ``body`` (``questionnaire``: ours, as served)."""
        request = parse_request(body)
        issues: list[dict[str, Any]] = []
        wanted = bool(request.orders or request.context)
        for ref in request.questionnaires:
            url, _, version = ref.partition("|")
            if url == questionnaire["url"] and version in ("", questionnaire["version"]):
                wanted = True
            else:
                issues.append(
                    _issue("warning", "not-found", f"questionnaire {ref} is not known to this payer")
                )
        if request.orders:
            reason = await self._not_needed(request, questionnaire, now, deadline)
            if reason is not None:
                wanted = False
                issues.append(_issue("information", "informational", reason))
        if request.changed_since is not None and request.changed_since >= self.published:
            wanted = False
        out: list[dict[str, Any]] = []
        if wanted:
            out.append({"name": PACKAGE_PARAMETER, "resource": self.bundle(request, questionnaire, now)})
        if issues:
            out.append({"name": OUTCOME_PARAMETER, "resource": _outcome(issues)})
        return {"resourceType": "Parameters", "parameter": out}

    async def _not_needed(
        self, request: PackageRequest, questionnaire: dict[str, Any], now: dt.datetime, deadline: Deadline
    ) -> str | None:
        """Why no questionnaire is needed for the request's orders, or None when one is."""
        patient = (_patient(request) or "").removeprefix("Patient/")
        decided = await self.core.decide(
            CaseInput(
                orders=request.orders,
                patient_id=patient,
                resources=[request.coverage, *request.referenced],
                now=now,
                questionnaire_url=questionnaire["url"],
                deadline=deadline,
                incomplete_ok=True,
                orders_at="Parameters.parameter(order)",
                record_at="Parameters.parameter(referenced)",
                label="questionnaire-package",
            )
        )
        if not decided.orders:
            return "No order in this request is a donor lymphocyte infusion under CP.MP.101: no questionnaire applies."
        if any(o.outcome in ("documentation-needed", "indeterminate") for o in decided.orders):
            return None
        outcomes = ", ".join(f"{o.ref}: {o.outcome}" for o in decided.orders)
        return f"No documentation is needed: CP.MP.101 is decided without it ({outcomes})."

    def bundle(
        self, request: PackageRequest, questionnaire: dict[str, Any], now: dt.datetime
    ) -> dict[str, Any]:
        """The PackageBundle for our questionnaire."""
        stamp = now.isoformat().replace("+00:00", "Z")
        libraries, valuesets = self.artifacts.closure(
            [e["valueCanonical"] for e in questionnaire.get("extension", []) if e.get("url") == CQF_LIBRARY]
        )
        orders = [f"{o['resourceType']}/{o['id']}" for o in request.orders]
        draft = draft_response(
            questionnaire,
            patient=_patient(request),
            coverage=f"Coverage/{request.coverage['id']}",
            orders=orders,
            now=now,
            response_id=str(uuid.uuid4()),
        )
        entries = [questionnaire, draft, *libraries]
        entries += [expand(vs, stamp) if code_count(vs) < EXPAND_BELOW else vs for vs in valuesets]
        return {
            "resourceType": "Bundle",
            "meta": {
                "profile": ["http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/DTR-QPackageBundle|2.1.0"]
            },
            "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
            "type": "collection",
            "timestamp": stamp,
            "entry": [{"fullUrl": _full_url(r), "resource": r} for r in entries],
        }


def _full_url(resource: dict[str, Any]) -> str:
    if resource["resourceType"] == "QuestionnaireResponse":
        return f"urn:uuid:{resource['id']}"
    url: str = resource["url"]
    return url
