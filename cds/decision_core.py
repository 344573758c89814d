"""The decision core: one case (draft orders, a patient's record, answers, now) in, the
policy's decision per in-scope order out. Every entry point (the order-sign, order-dispatch
and order-select hooks, PAS ``$submit``) adapts its input to a :class:`CaseInput` and its
output from a :class:`CaseOutcome`; none re-implements scope, record reading, time budget or
fault handling. Knows no HTTP and no hook: errors are typed (``cds.errors``).

API (stable; the PAS adapter builds on it)::

    core = DecisionCore(engine, fhir, time_budget_seconds)
    outcome = await core.decide(CaseInput(
        orders=[...],              # the draft orders (any type; only ServiceRequests can be DLI)
        patient_id="pat-1",        # whose Coverage is looked for
        resources=[...],           # the record in hand (prefetch, a PAS bundle's entries)
        missing={"coverage": "Coverage?patient=pat-1&status=active"},  # queries still to read
        fhir_server="https://ehr/fhir", fhir_token="...",              # where to read them
        answers=[...],             # completed QuestionnaireResponses (DTR), added to the record
        now=now, questionnaire_url=url, deadline=Deadline(4.0),
        orders_at="context.draftOrders",  # where an invalid order is named in errors
        targets=None,              # references of the orders to decide (order-select's selections);
                                   # None: every order. The others are still "Draft Orders".
        incomplete_ok=False,       # True: queries missing and no FHIR server -> decide on what is in hand
        orders_validated=False,    # True: the adapter already ran validate_order on each
        record_at="prefetch",      # where unreadable record data is named in errors
        label="hook-instance-id",  # names the case in the log (no contents)
    ))
    outcome.orders    # one OrderOutcome per order in scope, in order; [] when none is
    outcome.coverage  # "Coverage/<id>" of the patient's active Coverage, or None
    outcome.record    # the record the decisions were read from (resources + fetched + answers)

Each :class:`OrderOutcome` has ``decision`` (a :class:`cds.policy.Decision`, its ``outcome``
meets-criteria / not-medically-necessary / documentation-needed) or, when the record could not
be read from the FHIR server or the time budget ran out, ``technical`` (why, and whether it was
the time) with ``outcome == "indeterminate"``. ``key`` is what the order's ids derive from
(its reference; ``#2``... for a reference met again in the case), see :func:`uuid5_text`.

Flow, as order-sign always had it: with nothing missing, every order is evaluated once against
the record ("In Scope" first; the rest only for orders in scope). With queries missing, scope is
read from the orders alone first, and the record is read from the FHIR server only when an
order is in scope. Errors: an invalid ServiceRequest or record data the engine cannot read is
:class:`InvalidRequest` (naming the resource); queries missing with no FHIR server is
:class:`DataUnavailable`, unless ``incomplete_ok`` (order-select), which decides on what is
in hand. A failing FHIR server or the time running out is never an error: technical outcomes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from cds.cql.errors import CqlRuntimeError, EvaluationTimeout
from cds.errors import DataUnavailable, FhirServerError, InvalidRequest
from cds.evaluation import PolicyEngine, scope_only
from cds.fhir_client import FhirClient
from cds.limits import Deadline
from cds.policy import Decision, decide

log = logging.getLogger(__name__)
NAMESPACE = uuid.UUID("6f0c1d8e-2b7a-4e53-9d0e-5a1f3c2b9e44")
_NAMESPACE_BYTES = NAMESPACE.bytes


@dataclass(frozen=True)
class CaseInput:
    orders: Sequence[dict[str, Any]]
    patient_id: str
    resources: Sequence[dict[str, Any]]
    now: dt.datetime
    questionnaire_url: str
    deadline: Deadline
    missing: dict[str, str] = field(default_factory=dict)
    fhir_server: str | None = None
    fhir_token: str | None = None
    answers: Sequence[dict[str, Any]] = ()
    incomplete_ok: bool = False
    targets: frozenset[str] | None = None
    orders_validated: bool = False
    orders_at: str = "context.draftOrders"
    record_at: str = "prefetch"
    label: str = ""


@dataclass(frozen=True)
class Technical:
    """Why no decision: the FHIR server's failure, or (``out_of_time``) the time budget."""

    why: str
    out_of_time: bool = False

    @property
    def text(self) -> str:
        """The sentence a coverage-information reason carries."""
        if self.out_of_time:
            return f"The coverage requirements could not be determined: {self.why}."
        return f"The patient's record could not be read from the EHR's FHIR server: {self.why}."


@dataclass(frozen=True)
class OrderOutcome:
    order: dict[str, Any]
    key: str
    decision: Decision | None = None
    technical: Technical | None = None

    @property
    def ref(self) -> str:
        return f"{self.order.get('resourceType')}/{self.order.get('id')}"

    @property
    def outcome(self) -> str:
        """meets-criteria | not-medically-necessary | documentation-needed | indeterminate."""
        if self.decision is not None and self.decision.outcome is not None:
            return self.decision.outcome
        return "indeterminate"


@dataclass(frozen=True)
class CaseOutcome:
    orders: list[OrderOutcome]
    coverage: str | None
    record: list[dict[str, Any]]


class DecisionCore:
    def __init__(self, engine: PolicyEngine, fhir: FhirClient, time_budget_seconds: float) -> None:
        self.engine = engine
        self.fhir = fhir
        self.time_budget_seconds = time_budget_seconds

    async def decide(self, case: CaseInput) -> CaseOutcome:
        """The decision per in-scope order of ``case`` within its deadline."""
        orders = [o for o in case.orders if o.get("resourceType") == "ServiceRequest"]
        if not case.orders_validated:
            for order in orders:
                validate_order(order, case.orders_at)
        in_hand = merge([*case.resources, *case.answers])
        if not case.missing or (case.incomplete_ok and not case.fhir_server):
            return self._from_record(case, orders, in_hand)
        in_scope = self._scope(case, orders)  # before anything is fetched, no deadline
        if not in_scope:
            return CaseOutcome([], None, in_hand)
        try:
            record = await self._record(case, in_hand)
        except FhirServerError as exc:
            log.warning("case %s: FHIR server failure: %s", case.label, exc.message)
            return self._technical(case, in_scope, Technical(exc.message), in_hand)
        try:
            shared = self.engine.record(record)
            chosen = [(o, self._context(case, o, orders, shared)) for o in in_scope]
        except Exception as exc:
            raise _data_error(exc, [*in_scope, *record], case.record_at) from None
        return self._decided(case, chosen, record)

    # ------------------------------------------------------------------ steps
    def _candidates(self, case: CaseInput, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The orders to decide: all, or those ``case.targets`` names."""
        if case.targets is None:
            return orders
        return [o for o in orders if f"{o.get('resourceType')}/{o.get('id')}" in case.targets]

    def _context(
        self, case: CaseInput, order: dict[str, Any], orders: list[dict[str, Any]], shared: Any
    ) -> Any:
        return self.engine.context(order, orders, shared, case.now, case.questionnaire_url, case.deadline.at)

    def _from_record(
        self, case: CaseInput, orders: list[dict[str, Any]], record: list[dict[str, Any]]
    ) -> CaseOutcome:
        """Every order evaluated against the record in one evaluation each: "In Scope" first
        (it reads the orders alone), the rest only for orders in scope. Answers as the
        scope-first path does when the record cannot be read or time runs out."""
        engine = self.engine
        try:
            shared = engine.record(record)
            candidates = self._candidates(case, orders)
            contexts = [self._context(case, o, orders, shared) for o in candidates]
        except Exception as exc:  # a record the engine cannot read matters only to orders in scope
            in_scope = self._scope(case, orders)
            if not in_scope:
                return CaseOutcome([], None, record)
            raise _data_error(exc, [*in_scope, *record], case.record_at) from None
        try:
            chosen = [(o, ctx) for o, ctx in zip(candidates, contexts, strict=True) if engine.in_scope(ctx)]
        except EvaluationTimeout:
            in_scope = self._scope(case, orders)
            if not in_scope:
                return CaseOutcome([], None, record)
            return self._out_of_time(case, in_scope, record)
        except Exception as exc:
            raise _data_error(exc, orders, case.orders_at) from None
        if not chosen:
            return CaseOutcome([], None, record)
        return self._decided(case, chosen, record)

    def _decided(
        self, case: CaseInput, chosen: list[tuple[dict[str, Any], Any]], record: list[dict[str, Any]]
    ) -> CaseOutcome:
        """The decisions of the orders in scope, each read from its evaluation context."""
        try:
            decisions = [decide(order, self.engine.results(ctx)) for order, ctx in chosen]
        except EvaluationTimeout:
            return self._out_of_time(case, [o for o, _ in chosen], record)
        except Exception as exc:
            # Malformed FHIR data in the record (e.g. a string where a CodeableConcept belongs).
            raise _data_error(exc, [*(o for o, _ in chosen), *record], case.record_at) from None
        keys = id_keys([d.order_ref for d in decisions])
        outcomes = [OrderOutcome(d.order, key, decision=d) for d, key in zip(decisions, keys, strict=True)]
        for o in outcomes:
            log.info("case %s: %s -> %s", case.label, o.ref, o.outcome)
        return CaseOutcome(outcomes, coverage_of(record, case.patient_id), record)

    def _scope(self, case: CaseInput, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The orders in scope, read from the orders alone (their number is limited: not under
        the deadline)."""
        try:
            return [
                o
                for o in self._candidates(case, orders)
                if scope_only(self.engine, o, orders, case.now, case.questionnaire_url)
            ]
        except Exception as exc:
            raise _data_error(exc, orders, case.orders_at) from None

    def _out_of_time(
        self, case: CaseInput, orders: list[dict[str, Any]], record: list[dict[str, Any]]
    ) -> CaseOutcome:
        log.warning("case %s: time budget exhausted during evaluation", case.label)
        why = f"the policy could not be evaluated within the time budget of {self.time_budget_seconds} s"
        return self._technical(case, orders, Technical(why, out_of_time=True), record)

    def _technical(
        self,
        case: CaseInput,
        orders: list[dict[str, Any]],
        technical: Technical,
        record: list[dict[str, Any]],
    ) -> CaseOutcome:
        """Indeterminate for each order; the Coverage is read from ``record`` (what was read,
        or, when the FHIR server failed, what was in hand)."""
        keys = id_keys([f"ServiceRequest/{o.get('id')}" for o in orders])
        outcomes = [OrderOutcome(o, key, technical=technical) for o, key in zip(orders, keys, strict=True)]
        return CaseOutcome(outcomes, coverage_of(record, case.patient_id), record)

    async def _record(self, case: CaseInput, in_hand: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The record in hand and what is missing from it, read from the FHIR server."""
        if not case.fhir_server:
            keys = ", ".join(sorted(case.missing))
            raise DataUnavailable(
                f"{case.record_at} is missing {keys} and no fhirServer was given to read them from",
                case.record_at,
            )
        # Leave part of the budget for the evaluation that follows the fetch.
        reserve = min(0.5, self.time_budget_seconds / 4)
        fetched = await self.fhir.search_all(
            case.fhir_server,
            case.missing,
            case.fhir_token or None,
            max(0.0, case.deadline.remaining() - reserve),
        )
        resources = list(in_hand)
        for items in fetched.values():
            resources.extend(items)
        return merge(resources)


# ---------------------------------------------------------------------- helpers
def merge(resources: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resources without duplicates (by type and id; resources without id are kept)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for resource in resources:
        rid = resource.get("id")
        if isinstance(rid, str):
            key = (resource["resourceType"], rid)
            if key in seen:
                continue
            seen.add(key)
        out.append(resource)
    return out


def id_keys(refs: list[str]) -> list[str]:
    """What each order's card uuid and coverage-assertion-id are derived from: its reference, and
    for a reference already met in this case (two draft orders with one id, or orders without
    ids) also its occurrence, ``ServiceRequest/x#2``, so that every card and assertion of an
    answer has its own id."""
    seen: dict[str, int] = {}
    keys = []
    for ref in refs:
        seen[ref] = seen.get(ref, 0) + 1
        keys.append(ref if seen[ref] == 1 else f"{ref}#{seen[ref]}")
    return keys


def uuid5_text(name: str) -> str:
    """``str(uuid.uuid5(NAMESPACE, name))`` (RFC 4122 name-based, SHA-1) without building a
    UUID object: the same text at half the cost."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def coverage_of(record: Sequence[dict[str, Any]], patient_id: str) -> str | None:
    """The reference of the patient's active Coverage (the first one: CRD passes the primary)."""
    for resource in record:
        if resource.get("resourceType") != "Coverage" or not isinstance(resource.get("id"), str):
            continue
        if resource.get("status") not in (None, "active"):
            continue
        beneficiary = resource.get("beneficiary")
        reference = beneficiary.get("reference") if isinstance(beneficiary, dict) else None
        if isinstance(reference, str) and reference and not reference.endswith(f"Patient/{patient_id}"):
            continue
        return f"Coverage/{resource['id']}"
    return None


def validate_order(order: dict[str, Any], where: str = "context.draftOrders") -> None:
    """A draft ServiceRequest must be valid FHIR R4 (it is the resource a system action returns)."""
    try:
        ServiceRequest.model_validate(order)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ()))
        raise InvalidRequest(
            f"draft order ServiceRequest/{order.get('id')} is not a valid FHIR R4 ServiceRequest: {loc}: {err.get('msg')}",
            f"{where}.entry.resource.{loc}",
        ) from None


def _data_error(exc: Exception, resources: list[dict[str, Any]], where: str) -> Exception:
    """Evaluation failed: name the resource that is not valid FHIR R4 (validated only now, on the
    error path), or, when every resource is valid, let the engine's error through (a 500)."""
    from fhir.resources.R4B import get_fhir_model_class

    for resource in resources:
        try:
            get_fhir_model_class(str(resource.get("resourceType"))).model_validate(resource)
        except (ValidationError, KeyError, ValueError, TypeError) as invalid:
            detail: dict[str, Any] = (
                dict(invalid.errors()[0]) if isinstance(invalid, ValidationError) else {"msg": str(invalid)}
            )
            loc = ".".join(str(p) for p in detail.get("loc", ()))
            ref = f"{resource.get('resourceType')}/{resource.get('id')}"
            message = f"{ref} is not valid FHIR R4: {loc + ': ' if loc else ''}{detail.get('msg')}"
            return InvalidRequest(message, where)
    if isinstance(exc, CqlRuntimeError):
        return InvalidRequest(f"the data could not be evaluated: {exc.message}", where)
    return exc
