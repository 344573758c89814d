"""The PAS Claim (``profile-claim``, and ``profile-claim-inquiry`` for ``$inquire``) read from its
Bundle and validated into a :class:`PasClaim`.

What this service needs of a ``$submit`` Claim (PAS 2.x): ``use`` preauthorization, ``status``
active, an ``identifier`` (the provider's trace number: idempotency key), the Patient, the
insurer Organization, the requesting provider (a PractitionerRole or Organization, never a bare
Practitioner), the focal ``insurance`` → Coverage, and per item its ``sequence``, the
``productOrService`` and the requested ServiceRequest: the item's ``extension-requestedService``,
else the Claim's ``referral`` (one item), else the one ServiceRequest among ``supportingInfo``.
Every ``supportingInfo.valueReference`` resolves inside the Bundle and ``sequence`` is unique
(§spec-20, §spec-22); the QuestionnaireResponses among them are the DTR answers.

The CRD ``coverage-assertion-id`` an order carries (its ``ext-coverage-information``) is read
per item, to be carried through to the response. Errors name the element (``Bundle.entry[0]
.resource.use``): 400 for invalid FHIR, 422 for a broken PAS rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.claim import Claim
from pydantic import ValidationError

from cds.coverage_information import EXTENSION_URL as COVERAGE_INFORMATION
from cds.errors import InvalidRequest, UnsupportedRequest
from cds.pas.request_bundle import Entry, RequestBundle, read_bundle

PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition"
REQUESTED_SERVICE = f"{PAS}/extension-requestedService"
AUTHORIZATION_NUMBER = f"{PAS}/extension-authorizationNumber"
NPI = "http://hl7.org/fhir/sid/us-npi"
MEMBER_TYPE = "MB"
NOT_APPLICABLE = "not-applicable"
ORDER_TYPES = ("ServiceRequest", "DeviceRequest", "MedicationRequest", "NutritionOrder")


@dataclass(frozen=True)
class ClaimItem:
    sequence: int
    product_or_service: dict[str, Any]
    order: dict[str, Any] | None  # the requested service (None: an inquiry's item)
    order_url: str | None
    serviced: dict[str, Any]  # {"servicedDate": ...} or {"servicedPeriod": ...} or {}
    coverage_assertion_id: str | None
    authorization_number: str | None

    @property
    def codes(self) -> set[tuple[str, str]]:
        return _codes(self.product_or_service)


@dataclass(frozen=True)
class PasClaim:
    bundle: RequestBundle
    claim: Entry
    identifier: dict[str, Any]
    patient: Entry
    insurer: Entry
    provider: Entry
    coverage: Entry | None
    items: tuple[ClaimItem, ...]
    answers: tuple[dict[str, Any], ...]  # QuestionnaireResponses in supportingInfo
    authorization_number: str | None

    @property
    def key(self) -> str:
        """The idempotency key: the Claim identifier's ``system|value``."""
        return f"{self.identifier.get('system') or ''}|{self.identifier.get('value')}"

    @property
    def patient_id(self) -> str:
        return str(self.patient.resource.get("id") or "")

    @property
    def record(self) -> list[dict[str, Any]]:
        """Every resource of the Bundle but the Claim, the answers and any Patient other than
        the Claim's (a subscriber who is not the patient): the patient's record."""
        answers = {id(a) for a in self.answers}
        return [
            e.resource
            for e in self.bundle.entries[1:]
            if e.type != "Claim"
            and id(e.resource) not in answers
            and (e.type != "Patient" or e is self.patient)
        ]

    @property
    def orders(self) -> list[dict[str, Any]]:
        return [i.order for i in self.items if i.order is not None]

    @property
    def member_id(self) -> str | None:
        """The patient's member id (Patient identifier of type MB), else the Coverage's."""
        for identifier in _list(self.patient.resource.get("identifier")):
            if _has_code(identifier.get("type"), MEMBER_TYPE) and isinstance(identifier.get("value"), str):
                return str(identifier["value"])
        if self.coverage is not None:
            for identifier in _list(self.coverage.resource.get("identifier")):
                if _has_code(identifier.get("type"), MEMBER_TYPE) and isinstance(
                    identifier.get("value"), str
                ):
                    return str(identifier["value"])
            subscriber = self.coverage.resource.get("subscriberId")
            if isinstance(subscriber, str) and subscriber:
                return subscriber
        return None

    @property
    def provider_npis(self) -> tuple[str, ...]:
        """The requesting provider's NPIs: its own, and its Practitioner's and Organization's."""
        entries = [self.provider]
        if self.provider.type == "PractitionerRole":
            for element in ("practitioner", "organization"):
                found = self.bundle.try_resolve(self.provider.resource.get(element), self.provider)
                if found is not None:
                    entries.append(found)
        npis = [
            str(i["value"])
            for e in entries
            for i in _list(e.resource.get("identifier"))
            if i.get("system") == NPI and isinstance(i.get("value"), str)
        ]
        return tuple(dict.fromkeys(npis))

    @property
    def created(self) -> dt.date | None:
        return _date(self.claim.resource.get("created"))

    @property
    def patient_event(self) -> tuple[dt.date | None, dt.date | None] | None:
        """The dates of the event requested (``supportingInfo`` of category ``patientEvent``,
        its ``timing[x]``), or None without one."""
        for info in _list(self.claim.resource.get("supportingInfo")):
            if not _has_code(info.get("category"), "patientEvent"):
                continue
            timing = {
                k.replace("timing", "serviced"): v
                for k, v in info.items()
                if k in ("timingDate", "timingPeriod")
            }
            if timing:
                return serviced_range(timing)
        return None


def read_submission(body: Any) -> PasClaim:
    """A ``$submit`` body read as a PAS request Bundle and its Claim."""
    bundle = read_bundle(body, "Claim")
    claim = _read(bundle, inquiry=False)
    if not claim.items:
        raise UnsupportedRequest("the Claim has no item", "Bundle.entry[0].resource.item")
    return claim


def read_inquiry(body: Any) -> PasClaim:
    """An ``$inquire`` body read as a PAS inquiry Bundle and its Claim (the example to match)."""
    return _read(read_bundle(body, "Claim"), inquiry=True)


def _read(bundle: RequestBundle, *, inquiry: bool) -> PasClaim:
    entry = bundle.first
    claim = entry.resource
    at = entry.where
    _validate(claim, at)
    if claim.get("use") != "preauthorization":
        raise UnsupportedRequest(
            f"Claim.use is {claim.get('use')!r}; a PAS Claim is a 'preauthorization'", f"{at}.use"
        )
    if claim.get("status") != "active":
        raise UnsupportedRequest(
            f"Claim.status is {claim.get('status')!r}; a PAS Claim is 'active'", f"{at}.status"
        )
    identifiers = [
        i for i in _list(claim.get("identifier")) if isinstance(i.get("value"), str) and i["value"]
    ]
    if not identifiers:
        raise UnsupportedRequest(
            "the Claim has no identifier (the provider's trace number)", f"{at}.identifier"
        )
    patient = bundle.resolve(claim.get("patient"), entry, f"{at}.patient", "Patient")
    insurer = bundle.resolve(claim.get("insurer"), entry, f"{at}.insurer", "Organization")
    provider = bundle.resolve(
        claim.get("provider"), entry, f"{at}.provider", "PractitionerRole", "Organization"
    )
    coverage = _coverage(bundle, entry, claim, at, required=not inquiry)
    supporting, answers = _supporting(bundle, entry, claim, at)
    items = tuple(
        _item(bundle, entry, claim, i, item, supporting, inquiry=inquiry)
        for i, item in enumerate(_list(claim.get("item")))
    )
    sequences = [i.sequence for i in items]
    if len(set(sequences)) != len(sequences):
        raise UnsupportedRequest("Claim.item.sequence values must be unique (PAS §spec-34)", f"{at}.item")
    return PasClaim(
        bundle=bundle,
        claim=entry,
        identifier=identifiers[0],
        patient=patient,
        insurer=insurer,
        provider=provider,
        coverage=coverage,
        items=items,
        answers=tuple(answers),
        authorization_number=_ext_string(claim, AUTHORIZATION_NUMBER),
    )


def _validate(claim: dict[str, Any], at: str) -> None:
    """The Claim must be valid FHIR (R4 cardinalities and types). ``supportingInfo`` (dozens of
    entries with nested extensions: 95 % of the model validation's time) is checked for what
    the service reads of it: an object with a positive ``sequence``, a ``category`` and, if
    present, an object ``valueReference``."""
    infos = claim.get("supportingInfo")
    if infos is not None and not isinstance(infos, list):
        raise InvalidRequest("Claim.supportingInfo must be a list", f"{at}.supportingInfo")
    for i, info in enumerate(infos or []):
        where = f"{at}.supportingInfo[{i}]"
        if not isinstance(info, dict):
            raise InvalidRequest("a supportingInfo entry must be an object", where)
        sequence = info.get("sequence")
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
            raise InvalidRequest("supportingInfo.sequence must be a positive integer", f"{where}.sequence")
        if not isinstance(info.get("category"), dict):
            raise InvalidRequest("supportingInfo.category must be a CodeableConcept", f"{where}.category")
        if "valueReference" in info and not isinstance(info["valueReference"], dict):
            raise InvalidRequest(
                "supportingInfo.valueReference must be a Reference", f"{where}.valueReference"
            )
    try:
        Claim.model_validate({k: v for k, v in claim.items() if k != "supportingInfo"})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        raise InvalidRequest(
            f"the Claim is not a valid FHIR R4 Claim: {where}: {err.get('msg')}", f"{at}.{where}".rstrip(".")
        ) from None
    except (ValueError, TypeError) as exc:
        raise InvalidRequest(f"the Claim is not a valid FHIR R4 Claim: {exc}", at) from None


def _coverage(
    bundle: RequestBundle, entry: Entry, claim: dict[str, Any], at: str, *, required: bool
) -> Entry | None:
    insurance = _list(claim.get("insurance"))
    focal = [i for i in insurance if i.get("focal") is True] or insurance[:1]
    if not focal:
        if required:
            raise UnsupportedRequest("the Claim has no insurance", f"{at}.insurance")
        return None
    index = insurance.index(focal[0])
    return bundle.resolve(focal[0].get("coverage"), entry, f"{at}.insurance[{index}].coverage", "Coverage")


def _supporting(
    bundle: RequestBundle, entry: Entry, claim: dict[str, Any], at: str
) -> tuple[list[Entry], list[dict[str, Any]]]:
    found: list[Entry] = []
    sequences: set[Any] = set()
    for i, info in enumerate(_list(claim.get("supportingInfo"))):
        if info.get("sequence") in sequences:
            raise UnsupportedRequest(
                f"Claim.supportingInfo[{i}].sequence {info.get('sequence')} is not unique (PAS §spec-22)",
                f"{at}.supportingInfo[{i}].sequence",
            )
        sequences.add(info.get("sequence"))
        if "valueReference" in info:
            found.append(
                bundle.resolve(info["valueReference"], entry, f"{at}.supportingInfo[{i}].valueReference")
            )
    answers = [e.resource for e in found if e.type == "QuestionnaireResponse"]
    return found, answers


def _item(
    bundle: RequestBundle,
    entry: Entry,
    claim: dict[str, Any],
    index: int,
    item: dict[str, Any],
    supporting: list[Entry],
    *,
    inquiry: bool,
) -> ClaimItem:
    at = f"{entry.where}.item[{index}]"
    product = item.get("productOrService")
    order_entry: Entry | None = None
    requested = next((e for e in _list(item.get("extension")) if e.get("url") == REQUESTED_SERVICE), None)
    if requested is not None:
        order_entry = bundle.resolve(
            requested.get("valueReference"), entry, f"{at}.extension('requestedService')", *ORDER_TYPES
        )
    elif not inquiry:
        referral = bundle.try_resolve(claim.get("referral"), entry)
        orders = [e for e in supporting if e.type == "ServiceRequest"]
        if referral is not None and referral.type == "ServiceRequest" and len(_list(claim.get("item"))) == 1:
            order_entry = referral
        elif len(orders) == 1:
            order_entry = orders[0]
        else:
            raise UnsupportedRequest(
                "the item names no requested service: give its extension-requestedService "
                "(or the Claim's referral, or one ServiceRequest in supportingInfo)",
                f"{at}.extension('requestedService')",
            )
    serviced: dict[str, Any] = {k: item[k] for k in ("servicedDate", "servicedPeriod") if k in item}
    order = order_entry.resource if order_entry is not None else None
    return ClaimItem(
        sequence=int(item["sequence"]),
        product_or_service=product if isinstance(product, dict) else {},
        order=order,
        order_url=order_entry.full_url if order_entry is not None else None,
        serviced=serviced,
        coverage_assertion_id=_assertion_id(order) if order is not None else None,
        authorization_number=_ext_string(item, AUTHORIZATION_NUMBER),
    )


def _assertion_id(order: dict[str, Any]) -> str | None:
    """The CRD ``coverage-assertion-id`` of the order's coverage information, if it has one."""
    for ext in _list(order.get("extension")):
        if ext.get("url") != COVERAGE_INFORMATION:
            continue
        for sub in _list(ext.get("extension")):
            if sub.get("url") == "coverage-assertion-id" and isinstance(sub.get("valueString"), str):
                return str(sub["valueString"])
    return None


def _ext_string(element: dict[str, Any], url: str) -> str | None:
    for ext in _list(element.get("extension")):
        if ext.get("url") == url and isinstance(ext.get("valueString"), str):
            return str(ext["valueString"])
    return None


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _has_code(concept: Any, code: str) -> bool:
    return isinstance(concept, dict) and any(c.get("code") == code for c in _list(concept.get("coding")))


def _codes(concept: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (str(c.get("system") or ""), str(c.get("code")))
        for c in _list(concept.get("coding"))
        if isinstance(c.get("code"), str)
    }


def is_not_applicable(item: ClaimItem) -> bool:
    """An inquiry item for no specific service (§spec-43)."""
    return not item.codes or any(code == NOT_APPLICABLE for _, code in item.codes)


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def serviced_range(serviced: dict[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    """An item's ``serviced[x]`` as a (start, end) pair of dates (None: open)."""
    if "servicedDate" in serviced:
        day = _date(serviced["servicedDate"])
        return day, day
    period = serviced.get("servicedPeriod")
    if isinstance(period, dict):
        return _date(period.get("start")), _date(period.get("end"))
    return None, None
