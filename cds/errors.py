"""Typed errors of the service; ``app.py`` maps each to its HTTP status and an OperationOutcome."""

from __future__ import annotations


class ServiceError(Exception):
    """Base: ``code`` is the OperationOutcome issue code; ``where`` names the element."""

    code = "processing"

    def __init__(self, message: str, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(message)


class InvalidRequest(ServiceError):
    """Not a valid CDS Hooks request for this service (400)."""

    code = "invalid"


class UnsupportedRequest(ServiceError):
    """Valid JSON and FHIR that breaks a CRD constraint (422)."""

    code = "business-rule"


class DataUnavailable(ServiceError):
    """Data the policy needs is missing and cannot be fetched (412)."""

    code = "not-found"


class RequestTooLarge(ServiceError):
    """Over a configured size limit (413)."""

    code = "too-costly"


class StorageUnavailable(ServiceError):
    """The call's record cannot be stored durably: neither the database nor the local audit
    journal takes it (503: the answer is withheld rather than given without its record)."""

    code = "transient"


class FhirServerError(ServiceError):
    """The EHR's FHIR server failed (timeout, refusal, 4xx/5xx, malformed or endless answers)."""

    code = "transient"
