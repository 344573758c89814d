"""PAS fixtures: apps with a fixed clock per example's ``now``, and reading a PAS response's
decisions back as the policy's outcomes."""

from __future__ import annotations

from typing import Any

from cds.pas.claim_response import SERVICE_LINE_NUMBER
from cds.pas.review_action import action_code


def outcomes(request_bundle: dict[str, Any], response_bundle: dict[str, Any]) -> dict[str, str]:
    """The outcome per requested order (``ServiceRequest/id``) read back from the response:
    A1 criteria met, A3 not medically necessary, A4 with a CommunicationRequest for the item
    documentation needed, A4 without indeterminate; NA (out of scope) items are left out."""
    claim = request_bundle["entry"][0]["resource"]
    order_of = {}
    for item in claim["item"]:
        for ext in item.get("extension", []):
            if ext["url"].endswith("extension-requestedService"):
                order_of[item["sequence"]] = ext["valueReference"]["reference"]
    response = response_bundle["entry"][0]["resource"]
    asked = {
        ext["valuePositiveInt"]
        for entry in response_bundle["entry"]
        if entry["resource"]["resourceType"] == "CommunicationRequest"
        for ext in entry["resource"].get("extension", [])
        if ext["url"] == SERVICE_LINE_NUMBER
    }
    found = {}
    for item in response["item"]:
        code = action_code(item)
        outcome = {
            "A1": "meets-criteria",
            "A3": "not-medically-necessary",
            "A4": "documentation-needed" if item["itemSequence"] in asked else "indeterminate",
        }.get(str(code))
        if outcome is not None:
            found[order_of[item["itemSequence"]]] = outcome
    return found
