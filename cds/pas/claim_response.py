"""The PAS response Bundle (``profile-pas-response-bundle``) and its ClaimResponse
(``profile-claimresponse``), built from the review of each Claim item.

- The Bundle is a ``collection`` with the ClaimResponse first (§spec-30), the request Bundle's
  identifier echoed, and every resource the ClaimResponse refers to: the Patient, the insurer, the
  requestor and the authorized provider under the ``fullUrl`` they had in the request (§spec-33),
  and the CommunicationRequests of pended items.
- The ClaimResponse: ``status`` active, ``use`` preauthorization, ``outcome`` complete (also when
  denied or pended), ``request`` the Claim's fullUrl and identifier, ``preAuthRef`` when an item
  is certified; per item its ``itemSequence`` (§spec-34), the review action on
  ``adjudication`` (``review_action``), the required ``authorizedProvider`` (X12 98 ``1P``), and
  a ``processNote`` with the reason (denied) or what is needed (pended).
- The CRD ``coverage-assertion-id`` an order carried comes back as the item's
  ``itemTraceNumber`` (system :data:`ASSERTION_SYSTEM`). A pended item whose documentation is
  needed asks for the payer's questionnaire the PAS way (additionalinfo §ainfo-2/3): a PAS
  CommunicationRequest for LOINC ``102089-0`` whose identifier, like the item's trace number, is
  the DTR context id (the CRD assertion id when there was one), naming the questionnaire's
  canonical and the missing facts in its note.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cds.pas.claim import ClaimItem, PasClaim
from cds.pas.request_bundle import Entry
from cds.pas.review_action import PAS, adjudication, review_action

PROFILE = f"{PAS}/profile-claimresponse"
BUNDLE_PROFILE = f"{PAS}/profile-pas-response-bundle"
COMMUNICATION_PROFILE = f"{PAS}/profile-communicationrequest"
ITEM_TRACE_NUMBER = f"{PAS}/extension-itemTraceNumber"
PRE_AUTH_ISSUE_DATE = f"{PAS}/extension-itemPreAuthIssueDate"
REQUESTED_SERVICE_DATE = f"{PAS}/extension-itemRequestedServiceDate"
AUTHORIZED_PROVIDER = f"{PAS}/extension-itemAuthorizedProvider"
PROVIDER_TYPE = f"{PAS}/extension-authorizedProviderType"
SERVICE_LINE_NUMBER = f"{PAS}/extension-serviceLineNumber"
X12_98 = "https://codesystem.x12.org/005010/98"
ASSERTION_SYSTEM = "urn:dli-cds:crd:coverage-assertion-id"  # CRD assertion id = DTR context id
DTR_QUESTIONNAIRE_LOINC = "102089-0"  # "a payer's specific questionnaire" (PAS §ainfo-2)


@dataclass(frozen=True)
class ItemReview:
    """The decision for one Claim item, in the terms the response needs."""

    item: ClaimItem
    outcome: (
        str  # meets-criteria | not-medically-necessary | documentation-needed | indeterminate | out-of-scope
    )
    reason: str | None = None
    missing_facts: tuple[str, ...] = ()
    context_id: str | None = None  # the CRD assertion id carried through, or a new DTR context id
    authorization_number: str | None = None
    communication_id: str | None = None  # the CommunicationRequest of a documentation-needed item


def response_bundle(
    claim: PasClaim,
    reviews: Sequence[ItemReview],
    *,
    now: dt.datetime,
    response_id: str,
    questionnaire_url: str,
) -> dict[str, Any]:
    """The PAS response Bundle for ``claim``, ``reviews`` in item order."""
    stamp = now.isoformat().replace("+00:00", "Z")
    authorized = _authorized_provider(claim)
    notes: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    requests: list[dict[str, Any]] = []
    for review in reviews:
        item, note = _item(review, authorized, now, questionnaire_url, len(notes) + 1)
        if note is not None:
            notes.append(note)
        items.append(item)
        if review.outcome == "documentation-needed" and review.communication_id is not None:
            requests.append(_communication_request(claim, review, authorized, questionnaire_url))
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": response_id,
        "meta": {"profile": [PROFILE]},
        "identifier": [claim.identifier],
        "status": "active",
        "type": claim.claim.resource.get("type"),
        "use": "preauthorization",
        "patient": {"reference": claim.patient.full_url},
        "created": stamp,
        "insurer": {"reference": claim.insurer.full_url},
        "requestor": {"reference": claim.provider.full_url},
        "request": {"reference": claim.claim.full_url, "identifier": claim.identifier},
        "outcome": "complete",
        "disposition": _disposition(reviews),
    }
    approved = [r.authorization_number for r in reviews if r.authorization_number is not None]
    if approved:
        response["preAuthRef"] = approved[0]
    response["item"] = items
    if notes:
        response["processNote"] = notes
    if requests:
        response["communicationRequest"] = [{"reference": f"urn:uuid:{r['id']}"} for r in requests]
    entries = [{"fullUrl": f"urn:uuid:{response_id}", "resource": response}]
    echoed = [claim.patient, claim.insurer, claim.provider, *([authorized] if authorized else [])]
    for entry in dict.fromkeys(e.full_url for e in echoed):
        source = next(e for e in echoed if e.full_url == entry)
        entries.append({"fullUrl": source.full_url, "resource": source.resource})
    entries.extend({"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in requests)
    return {
        "resourceType": "Bundle",
        "id": response_id,
        "meta": {"profile": [BUNDLE_PROFILE]},
        "identifier": claim.bundle.identifier,
        "type": "collection",
        "timestamp": stamp,
        "entry": entries,
    }


def _item(
    review: ItemReview,
    authorized: Entry | None,
    now: dt.datetime,
    questionnaire_url: str,
    note_number: int,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    action = review_action(review.outcome)
    extensions: list[dict[str, Any]] = []
    if review.context_id is not None:
        extensions.append(
            {
                "url": ITEM_TRACE_NUMBER,
                "valueIdentifier": {"system": ASSERTION_SYSTEM, "value": review.context_id},
            }
        )
    if action.certified:
        extensions.append({"url": PRE_AUTH_ISSUE_DATE, "valueDate": now.date().isoformat()})
    if review.item.serviced:
        key, value = next(iter(review.item.serviced.items()))
        extensions.append({"url": REQUESTED_SERVICE_DATE, key.replace("serviced", "value"): value})
    provider: list[dict[str, Any]] = [
        {
            "url": PROVIDER_TYPE,
            "valueCodeableConcept": {"coding": [{"system": X12_98, "code": "1P", "display": "Provider"}]},
        }
    ]
    if authorized is not None:
        provider.insert(0, {"url": "provider", "valueReference": {"reference": authorized.full_url}})
    extensions.append({"url": AUTHORIZED_PROVIDER, "extension": provider})
    item: dict[str, Any] = {
        "extension": extensions,
        "itemSequence": review.item.sequence,
        "adjudication": [adjudication(action, review.authorization_number)],
    }
    text = _note_text(review, questionnaire_url)
    if text is None:
        return item, None
    item["noteNumber"] = [note_number]
    return item, {"number": note_number, "type": "display", "text": text}


def _note_text(review: ItemReview, questionnaire_url: str) -> str | None:
    if review.outcome == "not-medically-necessary":
        return review.reason or "CP.MP.101: not medically necessary"
    if review.outcome == "documentation-needed":
        return (
            f"Pended: {_needed(review)}. Complete the payer's questionnaire {questionnaire_url} "
            f"through DTR (context {review.context_id}) and submit again."
        )
    if review.outcome == "indeterminate":
        return f"Pended: {review.reason or 'the request could not be decided in time'}"
    if review.outcome == "out-of-scope":
        return "Not a donor lymphocyte infusion: no prior authorization is required under CP.MP.101."
    return None


def _needed(review: ItemReview) -> str:
    """What is missing: the policy's reason, and the questionnaire items that answer it."""
    reason = review.reason or "CP.MP.101 documentation needed"
    if review.missing_facts:
        reason += f" (questionnaire items: {', '.join(review.missing_facts)})"
    return reason


def _disposition(reviews: Sequence[ItemReview]) -> str:
    counts = {"A1": 0, "A3": 0, "A4": 0, "NA": 0}
    for review in reviews:
        counts[review_action(review.outcome).code] += 1
    return (
        f"CP.MP.101 review: {counts['A1']} certified, {counts['A3']} not certified, "
        f"{counts['A4']} pended, {counts['NA']} without action"
    )


def _authorized_provider(claim: PasClaim) -> Entry | None:
    """The provider the authorization is for, as PAS wants it (a Practitioner or an
    Organization): the requesting Organization, or the requesting role's Practitioner."""
    if claim.provider.type == "Organization":
        return claim.provider
    found = claim.bundle.try_resolve(claim.provider.resource.get("practitioner"), claim.provider)
    return found if found is not None and found.type == "Practitioner" else None


def _communication_request(
    claim: PasClaim, review: ItemReview, authorized: Entry | None, questionnaire_url: str
) -> dict[str, Any]:
    assert review.communication_id is not None
    resource: dict[str, Any] = {
        "resourceType": "CommunicationRequest",
        "id": review.communication_id,
        "meta": {"profile": [COMMUNICATION_PROFILE]},
        "extension": [{"url": SERVICE_LINE_NUMBER, "valuePositiveInt": review.item.sequence}],
        "identifier": [{"system": ASSERTION_SYSTEM, "value": review.context_id}],
        "status": "active",
        "subject": {"reference": claim.patient.full_url},
        "payload": [{"contentString": DTR_QUESTIONNAIRE_LOINC}],
        "requester": {"reference": claim.insurer.full_url},
        "note": [
            {
                "text": f"Item {review.item.sequence}: {_needed(review)}. Complete the questionnaire "
                f"{questionnaire_url} (DTR context {review.context_id})."
            }
        ],
    }
    if authorized is not None:
        resource["recipient"] = [{"reference": authorized.full_url}]
    return resource
