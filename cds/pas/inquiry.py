"""``Claim/$inquire``: query by example over the stored submissions (PAS "Prior Authorization
Inquiries").

The inquiry Claim's own identifier names the inquiry, not a search key. A stored submission
matches when (§spec-53) the patient's member id (Patient identifier type ``MB``, else the
Coverage's) is the same **and** the requesting provider shares an NPI with it; and, when the
inquiry gives them, when one of its items' service codes is among the submission's (the
``not-applicable`` code means any service, §spec-43), when the items' ``serviced[x]`` or the
patient event's dates (``supportingInfo`` ``patientEvent``) overlap the submission's requested
dates (its patient event's, else its Claim's ``created`` date, when an item had none), and when an
``extension-authorizationNumber`` equals the submission's ``preAuthRef``. The answer is a
Parameters with one ``return`` (the OperationDefinition's output name) per match: an inquiry
response Bundle whose first entry is the stored ClaimResponse (§spec-44) with its current
results (§spec-46).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from cds.errors import UnsupportedRequest
from cds.pas.claim import PasClaim, is_not_applicable, serviced_range
from cds.pas.review_action import PAS
from cds.pas.store import ClaimIndex, StoredClaim

INQUIRY_RESPONSE_PROFILE = f"{PAS}/profile-claiminquiryresponse"
INQUIRY_BUNDLE_PROFILE = f"{PAS}/profile-pas-inquiry-response-bundle"


def search_keys(inquiry: PasClaim) -> tuple[str, tuple[str, ...]]:
    """The member id and the provider NPIs an inquiry must give (§spec-53)."""
    member = inquiry.member_id
    if member is None:
        raise UnsupportedRequest(
            "the inquiry's Patient has no member id (an identifier of type MB): PAS inquiries match on it",
            f"{inquiry.patient.where}.identifier",
        )
    npis = inquiry.provider_npis
    if not npis:
        raise UnsupportedRequest(
            "the inquiry's provider has no NPI (identifier system http://hl7.org/fhir/sid/us-npi): "
            "PAS inquiries match on it",
            f"{inquiry.provider.where}.identifier",
        )
    return member, npis


def matches(inquiry: PasClaim, stored: ClaimIndex) -> bool:
    if not set(inquiry.provider_npis) & set(stored.provider_npis):
        return False
    wanted = [i for i in inquiry.items if not is_not_applicable(i)]
    if wanted:
        codes = {code for item in stored.items for _, code in item["codes"]}
        if not any(code in codes for i in wanted for _, code in i.codes):
            return False
    ranges = [serviced_range(i.serviced) for i in inquiry.items if i.serviced]
    if inquiry.patient_event is not None:
        ranges.append(inquiry.patient_event)
    if ranges and not any(_overlaps(r, _stored_range(item)) for r in ranges for item in stored.items):
        return False
    numbers = {
        n for n in (inquiry.authorization_number, *(i.authorization_number for i in inquiry.items)) if n
    }
    return not numbers or stored.pre_auth_ref in numbers


def _stored_range(item: dict[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    start, end = item.get("start"), item.get("end")
    return (
        dt.date.fromisoformat(start) if start else None,
        dt.date.fromisoformat(end) if end else None,
    )


def _overlaps(a: tuple[dt.date | None, dt.date | None], b: tuple[dt.date | None, dt.date | None]) -> bool:
    a_start, a_end = a
    b_start, b_end = b
    if a_start is not None and b_end is not None and b_end < a_start:
        return False
    return not (b_start is not None and a_end is not None and a_end < b_start)


def inquiry_result(inquiry: PasClaim, found: list[StoredClaim], now: dt.datetime) -> dict[str, Any]:
    """The ``$inquire`` answer: a Parameters with one inquiry response Bundle per match."""
    stamp = now.isoformat().replace("+00:00", "Z")
    parameters = []
    for stored in found:
        bundle = copy.deepcopy(stored.response)
        bundle["meta"] = {"profile": [INQUIRY_BUNDLE_PROFILE]}
        bundle["identifier"] = inquiry.bundle.identifier
        bundle["timestamp"] = stamp
        response = bundle["entry"][0]["resource"]
        response["meta"] = {"profile": [INQUIRY_RESPONSE_PROFILE]}
        parameters.append({"name": "return", "resource": bundle})
    result: dict[str, Any] = {"resourceType": "Parameters"}
    if parameters:
        result["parameter"] = parameters
    return result
