"""The order-sign service: a validated request in, the CDS Hooks response out.

Flow: which draft ServiceRequests are in scope (the library decides, from the orders alone) →
the record (prefetch, then the FHIR server for what is missing) → one evaluation per in-scope
order → a card and a CRD coverage-information system action each. Knows no HTTP: errors are
typed (``cds.errors``). A FHIR server that fails answers ``indeterminate``/technical, never a
500; data that is missing with no way to fetch it is :class:`~cds.errors.DataUnavailable`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from cds import cards as card_builder
from cds import coverage_information as ci
from cds.cql.errors import CqlRuntimeError, EvaluationTimeout
from cds.discovery import CARD_TYPE, PREFETCH
from cds.errors import DataUnavailable, FhirServerError, InvalidRequest
from cds.evaluation import PolicyEngine, scope_only
from cds.fhir_client import FhirClient
from cds.hooks import OrderSignRequest
from cds.limits import Deadline
from cds.policy import Decision, decide
from cds.prefetch import PrefetchState, check_shapes, merge, read_prefetch

log = logging.getLogger(__name__)
NAMESPACE = uuid.UUID("6f0c1d8e-2b7a-4e53-9d0e-5a1f3c2b9e44")
_NAMESPACE_BYTES = NAMESPACE.bytes


@dataclass
class OrderSignResult:
    body: dict[str, Any]
    orders: list[dict[str, Any]] = field(default_factory=list)  # for the audit log


@dataclass(frozen=True)
class ServiceConfig:
    plan_name: str
    policy_url: str
    time_budget_seconds: float


class OrderSignService:
    def __init__(self, engine: PolicyEngine, fhir: FhirClient, config: ServiceConfig) -> None:
        self.engine = engine
        self.fhir = fhir
        self.config = config

    async def handle(
        self,
        request: OrderSignRequest,
        *,
        now: dt.datetime,
        questionnaire_url: str,
        deadline: Deadline | None = None,
    ) -> OrderSignResult:
        """The answer within ``deadline`` (default: the configured budget from now). Time that
        runs out while reading the record or evaluating gives the technical answer."""
        deadline = deadline or Deadline(self.config.time_budget_seconds)
        orders = [o for o in request.orders if o.get("resourceType") == "ServiceRequest"]
        for order in orders:
            validate_order(order)
        check_shapes(request, PREFETCH)
        state = read_prefetch(request, PREFETCH)
        if not state.missing:  # the record is all here: each order is read once, scope first
            return self._from_prefetch(
                request, orders, merge(state.resources), now, questionnaire_url, deadline
            )
        in_scope = self._scope(orders, now, questionnaire_url)  # before anything is fetched
        if not in_scope:
            return OrderSignResult({"cards": [], "systemActions": []})
        try:
            record = await self._record(request, state, deadline)
        except FhirServerError as exc:
            log.warning("hook %s: FHIR server failure: %s", request.hookInstance, exc.message)
            return self._technical(request, in_scope, now, questionnaire_url, exc.message)
        try:
            shared = self.engine.record(record)
            chosen = [
                (o, self.engine.context(o, orders, shared, now, questionnaire_url, deadline.at))
                for o in in_scope
            ]
        except Exception as exc:
            raise _data_error(exc, [*in_scope, *record], "prefetch") from None
        return self._decided(request, chosen, record, now, questionnaire_url)

    def _from_prefetch(
        self,
        request: OrderSignRequest,
        orders: list[dict[str, Any]],
        record: list[dict[str, Any]],
        now: dt.datetime,
        questionnaire_url: str,
        deadline: Deadline,
    ) -> OrderSignResult:
        """Every order evaluated against the prefetched record in one evaluation each: "In
        Scope" first (it reads the orders alone), the rest only for orders in scope. Answers as
        the scope-first path does when the record cannot be read or time runs out."""
        engine = self.engine
        try:
            shared = engine.record(record)
            contexts = [
                engine.context(o, orders, shared, now, questionnaire_url, deadline.at) for o in orders
            ]
        except Exception as exc:  # a record the engine cannot read matters only to orders in scope
            in_scope = self._scope(orders, now, questionnaire_url)
            if not in_scope:
                return OrderSignResult({"cards": [], "systemActions": []})
            raise _data_error(exc, [*in_scope, *record], "prefetch") from None
        try:
            chosen = [(o, ctx) for o, ctx in zip(orders, contexts, strict=True) if engine.in_scope(ctx)]
        except EvaluationTimeout:
            in_scope = self._scope(orders, now, questionnaire_url)
            return (
                self._out_of_time(request, in_scope, now, questionnaire_url, record)
                if in_scope
                else OrderSignResult({"cards": [], "systemActions": []})
            )
        except Exception as exc:
            raise _data_error(exc, orders, "context.draftOrders") from None
        if not chosen:
            return OrderSignResult({"cards": [], "systemActions": []})
        return self._decided(request, chosen, record, now, questionnaire_url)

    def _decided(
        self,
        request: OrderSignRequest,
        chosen: list[tuple[dict[str, Any], Any]],
        record: list[dict[str, Any]],
        now: dt.datetime,
        questionnaire_url: str,
    ) -> OrderSignResult:
        """The answer for the orders in scope, each decided from its evaluation context."""
        try:
            decisions = [decide(order, self.engine.results(ctx)) for order, ctx in chosen]
        except EvaluationTimeout:
            return self._out_of_time(request, [o for o, _ in chosen], now, questionnaire_url, record)
        except Exception as exc:
            # Malformed FHIR data in the record (e.g. a string where a CodeableConcept belongs).
            raise _data_error(exc, [*(o for o, _ in chosen), *record], "prefetch") from None
        return self._answer(request, decisions, record, now, questionnaire_url)

    def _scope(
        self, orders: list[dict[str, Any]], now: dt.datetime, questionnaire_url: str
    ) -> list[dict[str, Any]]:
        """The orders in scope, read from the draft orders alone (their number is limited: not
        under the deadline)."""
        try:
            return [o for o in orders if scope_only(self.engine, o, orders, now, questionnaire_url)]
        except Exception as exc:
            raise _data_error(exc, orders, "context.draftOrders") from None

    def _out_of_time(
        self,
        request: OrderSignRequest,
        orders: list[dict[str, Any]],
        now: dt.datetime,
        questionnaire_url: str,
        record: list[dict[str, Any]],
    ) -> OrderSignResult:
        log.warning("hook %s: time budget exhausted during evaluation", request.hookInstance)
        why = (
            f"the policy could not be evaluated within the time budget of {self.config.time_budget_seconds} s"
        )
        return self._technical(request, orders, now, questionnaire_url, why, out_of_time=True, record=record)

    async def _record(
        self, request: OrderSignRequest, state: PrefetchState, deadline: Deadline
    ) -> list[dict[str, Any]]:
        """The prefetched resources and what is missing from them, read from the FHIR server."""
        resources = list(state.resources)
        if not request.fhirServer:
            keys = ", ".join(sorted(state.missing))
            raise DataUnavailable(
                f"prefetch is missing {keys} and no fhirServer was given to read them from", "prefetch"
            )
        token = request.fhirAuthorization.access_token if request.fhirAuthorization else None
        # Leave part of the budget for the evaluation that follows the fetch.
        reserve = min(0.5, self.config.time_budget_seconds / 4)
        fetched = await self.fhir.search_all(
            request.fhirServer, state.missing, token or None, max(0.0, deadline.remaining() - reserve)
        )
        for items in fetched.values():
            resources.extend(items)
        return merge(resources)

    # ------------------------------------------------------------------ answers
    def _ids(self, request: OrderSignRequest, now: dt.datetime, *parts: str) -> str:
        return uuid5_text("|".join((request.hookInstance, now.isoformat(), *parts)))

    def _answer(
        self,
        request: OrderSignRequest,
        decisions: list[Decision],
        record: list[dict[str, Any]],
        now: dt.datetime,
        questionnaire_url: str,
    ) -> OrderSignResult:
        config = request.configuration
        coverage = _coverage(record, request.context.patientId)
        want_cards = config.get(CARD_TYPE, True) is not False
        want_actions = config.get("coverage-info", True) is not False
        max_cards = config.get("max-cards")
        cards: list[dict[str, Any]] = []
        actions: list[dict[str, Any]] = []
        audit: list[dict[str, Any]] = []
        for d, key in zip(decisions, _id_keys([d.order_ref for d in decisions]), strict=True):
            assert d.outcome is not None
            entry: dict[str, Any] = {"order": d.order_ref, "outcome": d.outcome}
            if want_cards:
                cards.append(
                    card_builder.card(
                        d,
                        uuid=self._ids(request, now, key, "card"),
                        plan_name=self.config.plan_name,
                        policy_url=self.config.policy_url,
                    )
                )
            if want_actions and coverage is not None:
                assertion = self._ids(request, now, key, coverage)
                extension = ci.coverage_extension(
                    outcome=d.outcome,
                    version=request.requested_version,
                    coverage_ref=coverage,
                    date=now.date().isoformat(),
                    assertion_id=assertion,
                    reason=d.reason,
                    questionnaire_url=questionnaire_url,
                )
                actions.append(
                    ci.system_action(
                        d.order,
                        extension,
                        f"CP.MP.101 coverage information for {d.order_ref}: {d.outcome.replace('-', ' ')}",
                    )
                )
                entry["coverage_assertion_id"] = assertion
            audit.append(entry)
            log.info("hook %s: %s -> %s", request.hookInstance, d.order_ref, d.outcome)
        if isinstance(max_cards, int) and not isinstance(max_cards, bool) and max_cards >= 0:
            cards = cards[:max_cards]
        body: dict[str, Any] = {"cards": cards, "systemActions": actions}  # both always present
        return OrderSignResult(body, audit)

    def _technical(
        self,
        request: OrderSignRequest,
        orders: list[dict[str, Any]],
        now: dt.datetime,
        questionnaire_url: str,
        why: str,
        out_of_time: bool = False,
        record: list[dict[str, Any]] | None = None,
    ) -> OrderSignResult:
        """Indeterminate/technical for each order; the Coverage comes from the record when it
        was read (it may have been fetched), else from the prefetch."""
        config = request.configuration
        coverage = (
            _coverage(record, request.context.patientId)
            if record is not None
            else _coverage_from_prefetch(request)
        )
        cards, actions, audit = [], [], []
        text = (
            f"The coverage requirements could not be determined: {why}."
            if out_of_time
            else f"The patient's record could not be read from the EHR's FHIR server: {why}."
        )
        refs = [f"ServiceRequest/{order.get('id')}" for order in orders]
        for order, ref, key in zip(orders, refs, _id_keys(refs), strict=True):
            entry: dict[str, Any] = {"order": ref, "outcome": "indeterminate"}
            if config.get(CARD_TYPE, True) is not False:
                cards.append(
                    card_builder.technical_card(
                        order,
                        uuid=self._ids(request, now, key, "card"),
                        plan_name=self.config.plan_name,
                        policy_url=self.config.policy_url,
                        why=why,
                        out_of_time=out_of_time,
                    )
                )
            if config.get("coverage-info", True) is not False and coverage is not None:
                assertion = self._ids(request, now, key, coverage)
                extension = ci.coverage_extension(
                    outcome="technical",
                    version=request.requested_version,
                    coverage_ref=coverage,
                    date=now.date().isoformat(),
                    assertion_id=assertion,
                    reason=text,
                    questionnaire_url=questionnaire_url,
                )
                actions.append(
                    ci.system_action(
                        order, extension, f"CP.MP.101 coverage information for {ref}: indeterminate"
                    )
                )
                entry["coverage_assertion_id"] = assertion
            audit.append(entry)
        body: dict[str, Any] = {"cards": cards, "systemActions": actions}  # both always present
        return OrderSignResult(body, audit)


def _id_keys(refs: list[str]) -> list[str]:
    """What each order's card uuid and coverage-assertion-id are derived from: its reference, and
    for a reference already met in this request (two draft orders with one id, or orders
    without ids) also its occurrence, ``ServiceRequest/x#2``, so that every card and assertion
    of a response has its own id."""
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


def validate_order(order: dict[str, Any]) -> None:
    """A draft ServiceRequest must be valid FHIR R4 (it is the resource our system action returns)."""
    try:
        ServiceRequest.model_validate(order)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        raise InvalidRequest(
            f"draft order ServiceRequest/{order.get('id')} is not a valid FHIR R4 ServiceRequest: {where}: {err.get('msg')}",
            f"context.draftOrders.entry.resource.{where}",
        ) from None


def _coverage(record: list[dict[str, Any]], patient_id: str) -> str | None:
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


def _coverage_from_prefetch(request: OrderSignRequest) -> str | None:
    from cds.prefetch import resources_of

    resources = [r for v in (request.prefetch or {}).values() for r in resources_of(v)]
    return _coverage(resources, request.context.patientId)
