"""A workbench case: an order-sign request (an example's, a pasted one, or one built from a
pasted FHIR Bundle and draft order), a few quick edits of its record, and the run of it through
the chosen hook's service (``cds.workbench.hook_choice``: order-sign, order-select or
order-dispatch) — the hook's own code path. The only addition is a decision core that keeps the :class:`~cds.decision_core.CaseOutcome` it returned, for the trace.

The workbench reads nothing from FHIR servers: ``fhirServer`` and ``fhirAuthorization`` are
dropped from a case, so the record must be in the request (missing prefetch is reported).
Cases pasted in the page are kept in memory, content-addressed, while the process runs; an
example with quick edits is reproduced by its query string alone.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from cds.decision_core import CaseInput, CaseOutcome, DecisionCore
from cds.discovery import HOOK, PREFETCH
from cds.errors import ServiceError
from cds.hook_response import HookAnswer
from cds.order_sign import OrderSignService
from cds.prefetch import resources_of
from cds.workbench import hook_choice

SMOKING_LOINC = "72166-2"
SMOKING = {  # quick edit -> SNOMED CT smoking status (US Core)
    "current": ("449868002", "Current every day smoker"),
    "never": ("266919005", "Never smoked tobacco"),
}
PRIORITIES = ("routine", "urgent", "asap", "stat")
_PREFETCH_OF_TYPE = {
    "Coverage": "coverage",
    "Condition": "conditions",
    "Procedure": "procedures",
    "Observation": "labObservations",
    "MedicationRequest": "medicationRequests",
    "Goal": "goals",
    "QuestionnaireResponse": "questionnaireResponses",
}
MAX_STORED = 100


class CaseError(Exception):
    """The pasted text is not a case (not JSON, or neither a request nor a Bundle)."""


@dataclass(frozen=True)
class Edits:
    chimerism: float | None = None  # donor %, set on every chimerism result
    smoking: str | None = None  # current | never: a new latest smoking status
    priority: str | None = None  # of every draft order

    @classmethod
    def parse(cls, form: dict[str, str]) -> Edits:
        chimerism = None
        raw = form.get("chimerism", "").strip()
        if raw:
            try:
                chimerism = min(100.0, max(0.0, float(raw)))
            except ValueError:
                raise CaseError(f"chimerism must be a number, not {raw!r}") from None
        smoking = form.get("smoking") if form.get("smoking") in SMOKING else None
        priority = form.get("priority") if form.get("priority") in PRIORITIES else None
        return cls(chimerism, smoking, priority)

    def query(self) -> dict[str, str]:
        out = {}
        if self.chimerism is not None:
            out["chimerism"] = f"{self.chimerism:g}"
        if self.smoking:
            out["smoking"] = self.smoking
        if self.priority:
            out["priority"] = self.priority
        return out


@dataclass
class CaseRun:
    request: dict[str, Any]
    now: dt.datetime
    answer: HookAnswer | None = None
    outcome: CaseOutcome | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    hook: str = "order-sign"
    sent: dict[str, Any] = field(default_factory=dict)  # the hook's request, as the service got it


class _RecordingCore(DecisionCore):
    """The decision core, keeping what it decided (one instance per workbench run)."""

    last: CaseOutcome | None = None

    async def decide(self, case: CaseInput) -> CaseOutcome:
        self.last = await super().decide(case)
        return self.last


def parse_pasted(pasted: str, order_text: str = "") -> dict[str, Any]:
    """An order-sign request from pasted JSON: a request as is, or a Bundle (+ the draft order)."""
    try:
        value = json.loads(pasted)
        order = json.loads(order_text) if order_text.strip() else None
    except json.JSONDecodeError as exc:
        raise CaseError(f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        return request_from_bundle(value, order if isinstance(order, dict) else None)
    if isinstance(value, dict) and "context" in value:
        return value
    raise CaseError("paste an order-sign request (with context) or a FHIR Bundle")


def request_from_bundle(bundle: dict[str, Any], order: dict[str, Any] | None) -> dict[str, Any]:
    """An order-sign request whose prefetch is ``bundle``'s resources, sorted under our keys; the
    draft order is ``order``, or the Bundle's draft ServiceRequests."""
    resources = resources_of(bundle)
    drafts = [order] if order else [
        r for r in resources if r["resourceType"] == "ServiceRequest" and r.get("status") == "draft"
    ]
    if not drafts:
        raise CaseError("no draft order: paste one, or include a draft ServiceRequest in the Bundle")
    patient = next((r for r in resources if r["resourceType"] == "Patient"), None)
    subject = (drafts[0].get("subject") or {}).get("reference", "") if isinstance(drafts[0], dict) else ""
    patient_id = str(patient.get("id")) if patient else str(subject).rsplit("/", 1)[-1]
    prefetch: dict[str, Any] = {key: None for key in PREFETCH}
    prefetch["patient"] = patient
    for resource in resources:
        key = _PREFETCH_OF_TYPE.get(resource["resourceType"])
        if key is None or resource in drafts:
            continue
        if prefetch[key] is None:
            prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": []}
        prefetch[key]["entry"].append({"resource": resource})
    return {
        "hookInstance": "workbench-" + hashlib.sha256(json.dumps(bundle, sort_keys=True).encode()).hexdigest()[:12],
        "hook": HOOK,
        "context": {
            "userId": "Practitioner/workbench",
            "patientId": patient_id or "unknown",
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": d} for d in drafts]},
        },
        "prefetch": prefetch,
    }


def _record(request: dict[str, Any]) -> list[dict[str, Any]]:
    prefetch = request.get("prefetch")
    return [r for v in (prefetch or {}).values() for r in resources_of(v)] if isinstance(prefetch, dict) else []


def _texts(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    displays = [c.get("display", "") for c in concept.get("coding") or [] if isinstance(c, dict)]
    return " ".join([str(concept.get("text", "")), *map(str, displays)]).lower()


def apply_edits(request: dict[str, Any], edits: Edits, now: dt.datetime) -> dict[str, Any]:
    """A copy of ``request`` with the quick edits made in its record and orders."""
    request = copy.deepcopy(request)
    if edits.chimerism is not None:
        for obs in _record(request):
            if obs["resourceType"] != "Observation" or not re.search("chimer|engraft", _texts(obs.get("code"))):
                continue
            if isinstance(obs.get("valueQuantity"), dict):
                obs["valueQuantity"]["value"] = edits.chimerism
            for comp in obs.get("component") or []:
                if isinstance(comp, dict) and isinstance(comp.get("valueQuantity"), dict):
                    host = re.search("recipient|host|patient", _texts(comp.get("code")))
                    comp["valueQuantity"]["value"] = 100 - edits.chimerism if host else edits.chimerism
    if edits.smoking:
        _set_smoking(request, edits.smoking, now)
    if edits.priority:
        for order in _orders(request):
            order["priority"] = edits.priority
    return request


def _orders(request: dict[str, Any]) -> list[dict[str, Any]]:
    found = request.get("context")
    context: dict[str, Any] = found if isinstance(found, dict) else {}
    return [r for r in resources_of(context.get("draftOrders")) if r["resourceType"] == "ServiceRequest"]


def _set_smoking(request: dict[str, Any], status: str, now: dt.datetime) -> None:
    prefetch = request.setdefault("prefetch", {})
    patient_id = str((request.get("context") or {}).get("patientId", ""))
    for value in prefetch.values():
        if isinstance(value, dict) and isinstance(value.get("entry"), list):
            value["entry"] = [
                e for e in value["entry"]
                if not (isinstance(e, dict) and SMOKING_LOINC in json.dumps((e.get("resource") or {}).get("code")))
            ]
    code, display = SMOKING[status]
    observation = {
        "resourceType": "Observation",
        "id": "workbench-smoking-status",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "social-history"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": SMOKING_LOINC, "display": "Tobacco smoking status"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": now.isoformat(),
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}]},
    }
    social = prefetch.get("socialObservations")
    if not isinstance(social, dict) or not isinstance(social.get("entry"), list):
        social = prefetch["socialObservations"] = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    social["entry"].append({"resource": observation})


def without_server(request: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``request`` without ``fhirServer`` / ``fhirAuthorization`` (the workbench reads no server)."""
    notes = []
    request = dict(request)
    for key in ("fhirServer", "fhirAuthorization"):
        if request.pop(key, None) is not None:
            notes.append(f"{key} was dropped: the workbench reads the record from the request only.")
    return request, notes


async def run_case(
    service: OrderSignService,
    request: dict[str, Any],
    now: dt.datetime,
    questionnaire_url: str,
    hook: str = HOOK,
) -> CaseRun:
    """``request`` (an order-sign request) as ``hook``'s request through that hook's service
    (``cds.workbench.hook_choice``), keeping the decisions."""
    sent, notes = without_server(request)
    sent = hook_choice.request_for(hook, sent)
    run = CaseRun(request=request, now=now, notes=notes, hook=hook, sent=sent)
    core = _RecordingCore(service.engine, service.fhir, service.config.time_budget_seconds)
    try:
        run.answer = await hook_choice.answer(hook, service, core, sent, now, questionnaire_url)
    except ServiceError as exc:
        run.error = exc.message + (f" (at {exc.where})" if exc.where else "")
    run.outcome = core.last
    return run


class CaseStore:
    """Pasted cases by content hash, in memory, the oldest dropped past ``MAX_STORED``."""

    def __init__(self) -> None:
        self._cases: OrderedDict[str, tuple[dict[str, Any], str]] = OrderedDict()

    def put(self, request: dict[str, Any], now: dt.datetime) -> str:
        raw = json.dumps(request, sort_keys=True, separators=(",", ":"))
        key = hashlib.sha256((now.isoformat() + raw).encode()).hexdigest()[:20]
        self._cases[key] = (request, now.isoformat())
        self._cases.move_to_end(key)
        while len(self._cases) > MAX_STORED:
            self._cases.popitem(last=False)
        return key

    def get(self, key: str) -> tuple[dict[str, Any], dt.datetime] | None:
        found = self._cases.get(key)
        return (found[0], dt.datetime.fromisoformat(found[1])) if found else None
