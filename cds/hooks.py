"""CDS Hooks 2.0 wire models: the order-sign, order-select and order-dispatch requests and feedback, tolerant of what real
clients send (unknown fields and extensions ignored; ``Bundle.type`` optional; absent
``encounterId``; ``PractitionerRole`` users; ``null`` prefetch values)."""

from __future__ import annotations

import re
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cds.errors import InvalidRequest

USER_PATTERN = r"^[A-Za-z]+/[A-Za-z0-9\-.]{1,64}$"
_USER = re.compile(USER_PATTERN)
FHIR_SERVER_PATTERN = r"^(https?://[^/\s]+(/\S*)?|\s*)$"
_FHIR_SERVER = re.compile(FHIR_SERVER_PATTERN)
ORDER_TYPES = frozenset(
    {
        "ServiceRequest",
        "MedicationRequest",
        "DeviceRequest",
        "NutritionOrder",
        "VisionPrescription",
        "CommunicationRequest",
    }
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


_R = TypeVar("_R", bound="HookRequest")


class FhirAuthorization(_Model):
    access_token: str = ""
    token_type: str = "Bearer"
    expires_in: Any = None  # not used: any value is accepted
    scope: str | None = None
    subject: str | None = None
    patient: str | None = None


class PatientContext(_Model):
    """What every hook's context has."""

    patientId: str

    @field_validator("patientId")
    @classmethod
    def _patient(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("patientId must not be empty")
        return value


class OrderSignContext(PatientContext):
    userId: str
    encounterId: str | None = None
    draftOrders: dict[str, Any]

    @field_validator("userId")
    @classmethod
    def _user(cls, value: str) -> str:
        if not _USER.match(value):
            raise ValueError(
                "userId must be a {type}/{id} reference (Practitioner/..., PractitionerRole/...)"
            )
        return value

    @field_validator("draftOrders")
    @classmethod
    def _bundle(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value.get("resourceType") != "Bundle":
            raise ValueError("draftOrders must be a FHIR Bundle")
        if value.get("type") is not None and not isinstance(value["type"], str):
            raise ValueError("draftOrders.type must be a code")
        entries = value.get("entry", [])
        if not isinstance(entries, list):
            raise ValueError("draftOrders.entry must be an array")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
                raise ValueError(f"draftOrders.entry[{i}] has no resource")
            kind = entry["resource"].get("resourceType")
            if not isinstance(kind, str):
                raise ValueError(f"draftOrders.entry[{i}].resource has no resourceType")
            if kind not in ORDER_TYPES:
                raise ValueError(f"draftOrders.entry[{i}] is a {kind}, not an order resource")
        return value


ORDER_REFERENCE_PATTERN = r"^(" + "|".join(sorted(ORDER_TYPES)) + r")/[A-Za-z0-9\-.]{1,64}$"
_ORDER_REFERENCE = re.compile(ORDER_REFERENCE_PATTERN)


def _order_reference(value: str, where: str) -> str:
    if not _ORDER_REFERENCE.match(value):
        raise ValueError(f"{where} must be an order reference such as ServiceRequest/123, not {value!r}")
    return value


class OrderSelectContext(OrderSignContext):
    """order-select: the draft orders and, in ``selections``, the ones just chosen."""

    selections: list[str] = Field(min_length=1)

    @field_validator("selections")
    @classmethod
    def _selections(cls, value: list[str]) -> list[str]:
        return [_order_reference(v, "selections[]") for v in value]


class OrderDispatchContext(PatientContext):
    """order-dispatch (CDS Hooks 1.0, CRD): references to the dispatched orders and the
    performer. The Inferno CRD kit sends ``order``, a single reference, instead of (or beside)
    ``dispatchedOrders``; both are read."""

    dispatchedOrders: list[str] | None = None
    order: str | None = None
    performer: str | None = None
    fulfillmentTasks: Any = None
    userId: str | None = None

    @field_validator("dispatchedOrders")
    @classmethod
    def _dispatched(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_order_reference(v, "dispatchedOrders[]") for v in value]

    @field_validator("order")
    @classmethod
    def _order(cls, value: str | None) -> str | None:
        return None if value is None else _order_reference(value, "order")

    @property
    def references(self) -> list[str]:
        """The dispatched orders, each once, in the order given."""
        refs = [*(self.dispatchedOrders or ()), *([self.order] if self.order else [])]
        return list(dict.fromkeys(refs))


class HookRequest(_Model):
    """What every hook request has; ``context`` is the hook's own."""

    hook: str
    hookInstance: str = Field(min_length=1)
    context: PatientContext
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    prefetch: dict[str, Any] | None = None
    extension: dict[str, Any] | None = None

    @field_validator("fhirServer")
    @classmethod
    def _fhir_server(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None  # an empty fhirServer is read as none given
        if value is not None and not _FHIR_SERVER.fullmatch(value):
            raise ValueError("fhirServer must be the http(s) base URL of the EHR's FHIR server")
        return value

    @property
    def patient_id(self) -> str:
        return self.context.patientId

    @property
    def access_token(self) -> str | None:
        return (self.fhirAuthorization.access_token if self.fhirAuthorization else None) or None

    @property
    def requested_version(self) -> str:
        ext = self.extension or {}
        version = ext.get("davinci-crd.requestedVersion")
        return version if isinstance(version, str) and version else "2.0.1"

    @property
    def configuration(self) -> dict[str, Any]:
        ext = self.extension or {}
        config = ext.get("davinci-crd.configuration")
        return config if isinstance(config, dict) else {}


class OrderSignRequest(HookRequest):
    context: OrderSignContext

    @property
    def orders(self) -> list[dict[str, Any]]:
        return [e["resource"] for e in self.context.draftOrders.get("entry", [])]


class OrderSelectRequest(HookRequest):
    context: OrderSelectContext

    @property
    def orders(self) -> list[dict[str, Any]]:
        return [e["resource"] for e in self.context.draftOrders.get("entry", [])]


class OrderDispatchRequest(HookRequest):
    context: OrderDispatchContext


class Coding(_Model):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class OverrideReason(_Model):
    reason: Coding | None = None
    userComment: str | None = None


class AcceptedSuggestion(_Model):
    id: str


class FeedbackItem(_Model):
    card: str = Field(min_length=1)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: str

    @field_validator("outcomeTimestamp")
    @classmethod
    def _timestamp(cls, value: str) -> str:
        if not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$", value):
            raise ValueError("outcomeTimestamp must be an ISO 8601 date-time with a timezone")
        return value


class FeedbackRequest(_Model):
    feedback: list[FeedbackItem] = Field(min_length=1)


def _first_error(exc: ValidationError) -> InvalidRequest:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    message = err.get("msg", "invalid value")
    return InvalidRequest(f"{where}: {message}" if where else message, where or None)


def _parse(model: type[_R], body: dict[str, Any], hook: str) -> _R:
    try:
        request = model.model_validate(body)
    except ValidationError as exc:
        raise _first_error(exc) from None
    if request.hook != hook:
        raise InvalidRequest(f"hook must be {hook!r}, not {request.hook!r}", "hook")
    if request.fhirAuthorization is not None and not request.fhirServer:
        raise InvalidRequest("fhirServer is required with fhirAuthorization", "fhirServer")
    return request


def parse_order_sign(body: dict[str, Any], hook: str = "order-sign") -> OrderSignRequest:
    return _parse(OrderSignRequest, body, hook)


def parse_order_select(body: dict[str, Any], hook: str = "order-select") -> OrderSelectRequest:
    return _parse(OrderSelectRequest, body, hook)


def parse_order_dispatch(body: dict[str, Any], hook: str = "order-dispatch") -> OrderDispatchRequest:
    request = _parse(OrderDispatchRequest, body, hook)
    if not request.context.references:
        raise InvalidRequest(
            "context.dispatchedOrders must name at least one order", "context.dispatchedOrders"
        )
    return request


def parse_feedback(body: dict[str, Any]) -> FeedbackRequest:
    try:
        return FeedbackRequest.model_validate(body)
    except ValidationError as exc:
        raise _first_error(exc) from None
