"""``Claim/$submit`` and ``Claim/$inquire`` end to end, over the one decision core.

``$submit``: the request Bundle is read (``claim``); a Claim identifier already stored answers
the stored response when the Bundle is the same (idempotent; a different Bundle under the same
identifier is a :class:`ClaimConflict`); otherwise the requested services become the core's
orders and the Bundle's other resources its record (the QuestionnaireResponses in
``supportingInfo`` its answers), the core decides each order in the policy's scope, each item is
rendered as a review action (``claim_response``) and the submission and response are stored
(committed) before the answer. A Claim none of whose items is in the policy's scope is refused
(422): this payer service reviews CP.MP.101 only. No HTTP here: errors are ``cds.errors``.

Ids are derived (uuid5) from the Claim identifier and the Bundle's content, so the same
submission always gets the same answer. One authorization number per submission: the
ClaimResponse's ``preAuthRef`` and the ``number`` of every certified item's review action.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from cds.decision_core import CaseInput, DecisionCore, OrderOutcome, uuid5_text
from cds.errors import ServiceError, UnsupportedRequest
from cds.limits import Deadline
from cds.pas import inquiry as inquiries
from cds.pas.claim import PasClaim, read_inquiry, read_submission, serviced_range
from cds.pas.claim_response import ItemReview, response_bundle
from cds.pas.review_action import OUT_OF_SCOPE, review_action
from cds.pas.store import ClaimStore, StoredClaim, Submitter, visible_to

__all__ = ["ClaimConflict", "ClaimService", "SubmitResult", "Submitter"]


class ClaimConflict(ServiceError):
    """A Claim identifier already stored with a different Bundle (409)."""

    code = "duplicate"


@dataclass
class SubmitResult:
    body: dict[str, Any]
    patient_id: str | None
    orders: list[dict[str, Any]] = field(default_factory=list)  # for the audit log
    replayed: bool = False


class ClaimService:
    def __init__(self, core: DecisionCore, store: ClaimStore | None) -> None:
        self.core = core
        self.store = store

    async def submit(
        self,
        body: Any,
        *,
        now: dt.datetime,
        questionnaire_url: str,
        deadline: Deadline,
        submitter: Submitter | None = None,
        questionnaire_version: str = "",
    ) -> SubmitResult:
        """``submitter``: the authenticated client (None with authentication off), recorded
        with the submission; a stored submission is answered again only to a client that may
        see it (else the identifier is a conflict, as for different content).
        ``questionnaire_url`` is the questionnaire's canonical (the policy matches responses to
        it); with ``questionnaire_version`` the response names it version-specific, as CRD does."""
        claim = read_submission(body)
        digest = _digest(claim)
        if self.store is not None:
            stored = await asyncio.to_thread(self.store.get, claim.key)
            if stored is not None:
                return _replay(claim, stored, digest, submitter)
        reviews = await self._review(claim, now, questionnaire_url, deadline)
        response_id = uuid5_text(f"pas-response|{claim.key}|{digest}")
        response = response_bundle(
            claim,
            reviews,
            now=now,
            response_id=response_id,
            questionnaire_url=f"{questionnaire_url}|{questionnaire_version}"
            if questionnaire_version
            else questionnaire_url,
        )
        audit = [_audit_entry(r) for r in reviews]
        if self.store is not None:
            record = _record(claim, digest, now, reviews, response, submitter)
            kept = await asyncio.to_thread(self.store.put, record, claim.bundle.bundle)
            if kept is not record:  # a concurrent submission with this identifier won
                return _replay(claim, kept, digest, submitter)
        return SubmitResult(response, claim.patient_id, audit)

    async def _review(
        self, claim: PasClaim, now: dt.datetime, questionnaire_url: str, deadline: Deadline
    ) -> list[ItemReview]:
        orders = list({id(o): o for o in claim.orders}.values())  # items may share an order
        outcome = await self.core.decide(
            CaseInput(
                orders=orders,
                patient_id=claim.patient_id,
                resources=claim.record,
                answers=claim.answers,
                now=now,
                questionnaire_url=questionnaire_url,
                deadline=deadline,
                orders_at="Bundle.entry.resource",
                record_at="Bundle.entry.resource",
                label=claim.key,
            )
        )
        decided = {id(o.order): o for o in outcome.orders}
        if not decided:
            raise UnsupportedRequest(
                "no item of the Claim requests a donor lymphocyte infusion: this service reviews "
                "CP.MP.101 (DLI) only",
                f"{claim.claim.where}.item",
            )
        return [
            _item_review(claim, item_index, decided.get(id(item.order)))
            for item_index, item in enumerate(claim.items)
        ]

    async def inquire(
        self, body: Any, *, now: dt.datetime, caller: Submitter | None = None
    ) -> tuple[dict[str, Any], str]:
        """The Parameters of matching inquiry response Bundles, and the patient asked about.
        With a ``caller`` (authentication on), only submissions made for one of its
        organizations match: another client's finds nothing, as if there were none."""
        inquiry = read_inquiry(body)
        member, _npis = inquiries.search_keys(inquiry)
        found = await asyncio.to_thread(self._matching, inquiry, member, caller)
        return inquiries.inquiry_result(inquiry, found, now), inquiry.patient_id

    def _matching(self, inquiry: PasClaim, member: str, caller: Submitter | None) -> list[StoredClaim]:
        if self.store is None:
            return []
        keys = [
            c.claim_key
            for c in self.store.by_member(member)
            if visible_to(c.organizations, caller) and inquiries.matches(inquiry, c)
        ]
        return [s for s in (self.store.get(k) for k in keys) if s is not None]


def _item_review(claim: PasClaim, index: int, decided: OrderOutcome | None) -> ItemReview:
    item = claim.items[index]
    seq = item.sequence
    if decided is None:
        return ItemReview(item, OUT_OF_SCOPE, context_id=item.coverage_assertion_id)
    outcome = decided.outcome
    decision = decided.decision
    reason = (
        decision.reason if decision is not None else (decided.technical.text if decided.technical else None)
    )
    missing = decision.missing_facts if decision is not None else ()
    context = item.coverage_assertion_id
    if outcome == "documentation-needed" and context is None:
        context = uuid5_text(f"pas-context|{claim.key}|{seq}")
    return ItemReview(
        item=item,
        outcome=outcome,
        reason=reason,
        missing_facts=tuple(missing),
        context_id=context,
        authorization_number=(
            "DLI-" + uuid5_text(f"pas-auth|{claim.key}").replace("-", "")[:12].upper()
            if outcome == "meets-criteria"
            else None
        ),
        communication_id=(
            uuid5_text(f"pas-communication|{claim.key}|{seq}") if outcome == "documentation-needed" else None
        ),
    )


def _digest(claim: PasClaim) -> str:
    """What makes two submissions the same: the Bundle's entries (not its timestamp)."""
    entries = claim.bundle.bundle.get("entry")
    return hashlib.sha256(orjson.dumps(entries, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _replay(claim: PasClaim, stored: StoredClaim, digest: str, submitter: Submitter | None) -> SubmitResult:
    if stored.bundle_hash != digest or not visible_to(stored.organizations, submitter):
        raise ClaimConflict(
            f"Claim identifier {claim.key!r} was already submitted with different content; "
            "a new request needs a new identifier",
            f"{claim.claim.where}.identifier",
        )
    return SubmitResult(stored.response, stored.patient_id, [], replayed=True)


def _audit_entry(review: ItemReview) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "order": f"item/{review.item.sequence}",
        "outcome": review.outcome,
        "review_action": review_action(review.outcome).code,
    }
    if review.item.order is not None:
        entry["order"] = f"ServiceRequest/{review.item.order.get('id')}"
    if review.context_id is not None:
        entry["coverage_assertion_id"] = review.context_id
    return entry


def _record(
    claim: PasClaim,
    digest: str,
    now: dt.datetime,
    reviews: list[ItemReview],
    response: dict[str, Any],
    submitter: Submitter | None,
) -> StoredClaim:
    created = claim.created or now.date()
    event = claim.patient_event
    items = []
    for review in reviews:
        start, end = serviced_range(review.item.serviced)
        if start is None and end is None:  # the item's dates, else the event's, else the Claim's
            start, end = event if event is not None else (created, created)
        items.append(
            {
                "sequence": review.item.sequence,
                "codes": sorted(review.item.codes),
                "start": start.isoformat() if start else None,
                "end": end.isoformat() if end else None,
                "action": review_action(review.outcome).code,
            }
        )
    return StoredClaim(
        claim_key=claim.key,
        bundle_hash=digest,
        received_at=now,
        patient_id=claim.patient_id,
        member_id=claim.member_id,
        provider_npis=claim.provider_npis,
        items=tuple(items),
        pre_auth_ref=response["entry"][0]["resource"].get("preAuthRef"),
        response_text=orjson.dumps(response).decode(),
        client_id=submitter.client_id if submitter is not None else None,
        organizations=submitter.organizations if submitter is not None else None,
    )
