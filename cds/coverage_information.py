"""The Da Vinci CRD coverage-information system action (CRD 2.0.1, 2.1 and 2.2).

The draft order is returned unchanged but for the ``ext-coverage-information`` extension
(resp-37). Values follow interpretation §3 and the invariants of the requested version: the
2.0.1 FHIRPath of q2 wants ``pa-needed`` whenever not ``not-covered``; 2.2's q8 wants a
``reason`` with any ``doc-purpose`` and q9 one with any ``indeterminate``. Reason codings use
the ``temp`` code system up to 2.1 and ``coverage-information-codes`` in 2.2.
"""

from __future__ import annotations

from typing import Any

EXTENSION_URL = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
TEMP = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp"
CODES_22 = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/coverage-information-codes"


def is_22(version: str) -> bool:
    parts = version.split(".")
    try:
        return (int(parts[0]), int(parts[1] if len(parts) > 1 else 0)) >= (2, 2)
    except ValueError:
        return False


def _reason(text: str, code: str | None, version: str) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": text}
    if code is not None:
        concept["coding"] = [{"system": CODES_22 if is_22(version) else TEMP, "code": code}]
    return {"url": "reason", "valueCodeableConcept": concept}


def coverage_extension(
    *,
    outcome: str,
    version: str,
    coverage_ref: str,
    date: str,
    assertion_id: str,
    reason: str | None,
    questionnaire_url: str,
) -> dict[str, Any]:
    """outcome: meets-criteria | documentation-needed | not-medically-necessary | technical."""
    ext: list[dict[str, Any]] = [{"url": "coverage", "valueReference": {"reference": coverage_ref}}]
    if outcome == "meets-criteria":
        ext += [{"url": "covered", "valueCode": "covered"}, {"url": "pa-needed", "valueCode": "auth-needed"}]
    elif outcome == "documentation-needed":
        ext += [
            {"url": "covered", "valueCode": "covered"},
            {"url": "pa-needed", "valueCode": "auth-needed"},
            {"url": "doc-needed", "valueCode": "clinical"},
            {"url": "doc-purpose", "valueCode": "withpa"},
            {"url": "questionnaire", "valueCanonical": questionnaire_url},
            _reason(reason or "Documentation needed for CP.MP.101", None, version),
        ]
    elif outcome == "not-medically-necessary":
        ext += [{"url": "covered", "valueCode": "not-covered"}, _reason(reason or "CP.MP.101", None, version)]
    elif outcome == "technical":
        text = reason or "The patient's record could not be read from the EHR's FHIR server."
        if is_22(version):
            ext += [
                {"url": "covered", "valueCode": "indeterminate"},
                {"url": "pa-needed", "valueCode": "indeterminate"},
                _reason(text, "technical", version),
            ]
        else:
            ext += [
                {"url": "covered", "valueCode": "conditional"},
                {"url": "pa-needed", "valueCode": "conditional"},
                {"url": "info-needed", "valueCode": "OTH"},
                _reason(text, None, version),
            ]
    else:
        raise ValueError(f"unknown outcome {outcome!r}")
    ext += [
        {"url": "date", "valueDate": date},
        {"url": "coverage-assertion-id", "valueString": assertion_id},
    ]
    return {"url": EXTENSION_URL, "extension": ext}


def system_action(order: dict[str, Any], extension: dict[str, Any], description: str) -> dict[str, Any]:
    updated = dict(order)  # only "extension" is replaced; nothing below it is changed
    coverage = extension["extension"][0]["valueReference"]["reference"]
    kept = [
        e
        for e in updated.get("extension") or []
        if not (isinstance(e, dict) and e.get("url") == EXTENSION_URL and _coverage_of(e) == coverage)
    ]
    updated["extension"] = [*kept, extension]
    return {"type": "update", "description": description, "resource": updated}


def _coverage_of(extension: dict[str, Any]) -> str | None:
    for sub in extension.get("extension") or []:
        if isinstance(sub, dict) and sub.get("url") == "coverage":
            ref = sub.get("valueReference") or {}
            return ref.get("reference") if isinstance(ref, dict) else None
    return None


DOCUMENTATION_REQUESTS = frozenset({"doc-needed", "doc-purpose", "questionnaire"})


def without_documentation_requests(extension: dict[str, Any]) -> dict[str, Any]:
    """The extension for a CRD secondary hook (order-select): hook-19 forbids asking there for
    clinical or administrative documentation, so ``doc-needed`` goes, and with it what only
    documentation requests carry (``doc-purpose``, ``questionnaire``: invariant q1), and the
    reason that would say which documentation (a message asking for clinical information)."""
    subs = extension["extension"]
    asked = any(e.get("url") == "doc-needed" for e in subs)
    dropped = DOCUMENTATION_REQUESTS | ({"reason"} if asked else set())
    kept = [e for e in subs if e.get("url") not in dropped]
    return {**extension, "extension": kept}
