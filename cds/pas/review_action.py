"""Our per-order outcomes as PAS review actions (X12 306, HCR01) on ``ClaimResponse.item``.

| outcome (interpretation §2)  | X12 306 | meaning in PAS                                        |
|------------------------------|---------|-------------------------------------------------------|
| ``meets-criteria``           | A1      | certified in total: a ``preAuthRef`` and the number   |
| ``not-medically-necessary``  | A3      | not certified, the failing criterion as the reason   |
| ``documentation-needed``     | A4      | pended: the DTR questionnaire is what is needed      |
| ``indeterminate`` (technical)| A4      | pended: the payer could not decide in time (§spec-8)  |
| not in the policy's scope    | NA      | no action required under CP.MP.101                    |

The ``reviewAction`` extension sits on ``item.adjudication`` (category ``submitted``) with its
``code`` sub-extension (a slice defined by another extension, so its ``url`` is the full
canonical ``…/extension-reviewActionCode``; a CodeableConcept in
``https://codesystem.x12.org/005010/306``) and, on approval, its ``number`` sub-extension.
Displays are those of the PAS guide's examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition"
REVIEW_ACTION = f"{PAS}/extension-reviewAction"
REVIEW_ACTION_CODE = f"{PAS}/extension-reviewActionCode"
X12_306 = "https://codesystem.x12.org/005010/306"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
OUT_OF_SCOPE = "out-of-scope"


@dataclass(frozen=True)
class ReviewAction:
    code: str
    display: str

    @property
    def certified(self) -> bool:
        return self.code == "A1"

    @property
    def pended(self) -> bool:
        return self.code == "A4"


CERTIFIED = ReviewAction("A1", "Certified in total")
NOT_CERTIFIED = ReviewAction("A3", "Not Certified")
PENDED = ReviewAction("A4", "Pending")
NO_ACTION = ReviewAction("NA", "No Action Required")

BY_OUTCOME = {
    "meets-criteria": CERTIFIED,
    "not-medically-necessary": NOT_CERTIFIED,
    "documentation-needed": PENDED,
    "indeterminate": PENDED,
    OUT_OF_SCOPE: NO_ACTION,
}
OUTCOME_BY_CODE = {
    "A1": "meets-criteria",
    "A3": "not-medically-necessary",
    "A4": "pended",
    "NA": OUT_OF_SCOPE,
}


def review_action(outcome: str) -> ReviewAction:
    try:
        return BY_OUTCOME[outcome]
    except KeyError:
        raise ValueError(f"no PAS review action for outcome {outcome!r}") from None


def adjudication(action: ReviewAction, number: str | None) -> dict[str, Any]:
    """One ``item.adjudication`` carrying the review action (and its number on approval)."""
    subs: list[dict[str, Any]] = [
        {
            "url": REVIEW_ACTION_CODE,
            "valueCodeableConcept": {
                "coding": [{"system": X12_306, "code": action.code, "display": action.display}]
            },
        }
    ]
    if number is not None:
        subs.insert(0, {"url": "number", "valueString": number})
    return {
        "extension": [{"url": REVIEW_ACTION, "extension": subs}],
        "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
    }


def action_code(item: dict[str, Any]) -> str | None:
    """The X12 306 code a ClaimResponse item's review action carries (read back, for tests and
    ``$inquire``)."""
    for adj in item.get("adjudication") or []:
        for ext in adj.get("extension") or []:
            if ext.get("url") != REVIEW_ACTION:
                continue
            for sub in ext.get("extension") or []:
                if sub.get("url") == REVIEW_ACTION_CODE:
                    for coding in (sub.get("valueCodeableConcept") or {}).get("coding") or []:
                        if coding.get("system") == X12_306:
                            return str(coding.get("code"))
    return None
