"""What ``using FHIR version '4.0.0'`` adds to the engine's FHIR 4.0.1 model.

The engine reads FHIR 4.0.0 libraries against the 4.0.1 model info (with a warning; see
:func:`cds.cql.api.model_warnings`). The 4.0.0 model info declared bound-code types that the
4.0.1 one renamed or dropped; libraries written for 4.0.0 (the FHIRHelpers 4.0.0 text shipped
with the Da Vinci CDS-Library) declare functions over them. Each is, in the 4.0.0 model info, a
``FHIR.Element`` whose ``value`` is a ``System.String``. They are known only to libraries that
declare FHIR 4.0.0; no 4.0.1 data is ever of these types, so such functions are never chosen.
"""

from __future__ import annotations

CODE_TYPES_4_0_0 = frozenset(
    {
        "ClaimProcessingCodes",
        "ContractResourcePublicationStatusCodes",
        "ContractResourceStatusCodes",
        "EventStatus",
        "ExpressionLanguage",
        "FinancialResourceStatusCodes",
        "ImmunizationEvaluationStatusCodes",
        "ImmunizationStatusCodes",
        "MedicationStatusCodes",
        "RequestResourceType",
        "SampledDataDataType",
        "messageheaderResponseRequest",
        "orientationType",
        "qualityType",
        "repositoryType",
        "sequenceType",
        "status",
        "strandType",
        "vConfidentialityClassification",
    }
)


def declares_fhir_4_0_0(usings: object) -> bool:
    """Whether a library's ``using`` declarations name FHIR version 4.0.0."""
    return any(
        getattr(u, "model", None) == "FHIR" and getattr(u, "version", None) == "4.0.0"
        for u in usings  # type: ignore[attr-defined]
    )
