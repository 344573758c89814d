"""Every criterion that reads "the most recent" result: when that result cannot be read, the fact
is unknown (documentation needed) — an older result does not decide, and the fact is not read as
absent. The reason names the result and quotes its text.

Each row starts from example 01's record (AML after an allogeneic HSCT: criteria met) and
replaces the results of one kind with an older readable one and a newer one.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cds.cql.api import Library, load_library
from cds.cql.terminology.folder import FolderTerminology

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
BASE = json.loads((ROOT / "fhir-examples" / "01-meets-aml-relapse-prevention" / "request.json").read_text())
CHIMERISM = {"coding": [{"system": "http://loinc.org", "code": "102113-8"}], "text": "Chimerism, donor %"}
SMOKING = {"coding": [{"system": "http://loinc.org", "code": "72166-2", "display": "Tobacco smoking status"}]}
ECIG = {"coding": [{"system": "http://loinc.org", "code": "105045-9", "display": "E cig use"}]}
GRADE = {"text": "Acute GvHD overall grade"}
SCT = "http://snomed.info/sct"
ACUTE_GVHD = {
    "resourceType": "Condition",
    "id": "agvhd",
    "clinicalStatus": {"coding": [{"code": "active"}]},
    "code": {"coding": [{"system": SCT, "code": "402355000"}]},
}


def _obs(oid: str, code: dict[str, Any], date: str, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": code,
        "effectiveDateTime": date,
        **value,
    }


def _concept(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": SCT, "code": code, "display": display}]}


# (name, replaced observation ids, added resources, label, status, reason fragment)
ROWS: list[tuple[str, set[str], list[dict[str, Any]], str, str, str]] = [
    (
        "chimerism: newer unreadable, older mixed",
        {"chimerism"},
        [
            _obs("old", CHIMERISM, "2026-08-01", valueQuantity={"value": 84, "unit": "%"}),
            _obs("new", CHIMERISM, "2026-11-10", valueString="Interpretation to follow"),
        ],
        "II.D",
        "unknown",
        "Observation/new ('Interpretation to follow') cannot be read",
    ),
    (
        "chimerism: newer unreadable, older total host",
        {"chimerism"},
        [
            _obs("old", CHIMERISM, "2026-08-01", valueQuantity={"value": 0, "unit": "%"}),
            _obs("new", CHIMERISM, "2026-11-10", valueCodeableConcept={"text": "see scanned PDF"}),
        ],
        "II.D",
        "unknown",
        "Observation/new ('see scanned PDF') cannot be read",
    ),
    (
        "chimerism: newer in words (total host), older mixed",
        {"chimerism"},
        [
            _obs("old", CHIMERISM, "2026-08-01", valueQuantity={"value": 84, "unit": "%"}),
            _obs("new", CHIMERISM, "2026-11-10", interpretation=[{"text": "Host pattern only"}]),
        ],
        "II.D",
        "not-met",
        "total host chimerism ('Host pattern only')",
    ),
    (
        "chimerism: comparator quantity > 99 % recipient",
        {"chimerism"},
        [
            _obs(
                "new",
                {"text": "Chimerism, recipient %"},
                "2026-11-10",
                valueQuantity={"value": 99, "comparator": ">", "unit": "%"},
            ),
        ],
        "II.D",
        "not-met",
        "total host chimerism (> 99 % recipient)",
    ),
    (
        "grade: newer unreadable, older grade 2",
        set(),
        [
            ACUTE_GVHD,
            _obs("old", GRADE, "2026-10-01", valueInteger=2),
            _obs("new", GRADE, "2026-11-01", valueString="pending review"),
        ],
        "II.C",
        "unknown",
        "Observation/new ('pending review') cannot be read",
    ),
    (
        "grade: newer range wholly above II",
        set(),
        [ACUTE_GVHD, _obs("new", GRADE, "2026-11-01", valueString="grade III-IV")],
        "II.C",
        "not-met",
        "overall grade 3-4",
    ),
    (
        "smoking: newer unreadable, older never smoker",
        {"smoking"},
        [
            _obs("old", SMOKING, "2026-01-01", valueCodeableConcept=_concept("266919005", "Never smoker")),
            _obs("new", SMOKING, "2026-10-01", valueString="see nursing note"),
        ],
        "I.C.4",
        "unknown",
        "Observation/new ('see nursing note') cannot be read",
    ),
    (
        "smoking: newer in words, never",
        {"smoking"},
        [_obs("new", SMOKING, "2026-10-01", valueCodeableConcept={"text": "Denies tobacco use"})],
        "I.C.4",
        "met",
        "No current tobacco",
    ),
    (
        "smoking: newer in words, current",
        {"smoking"},
        [
            _obs("old", SMOKING, "2026-01-01", valueCodeableConcept=_concept("266919005", "Never smoker")),
            _obs("new", SMOKING, "2026-10-01", valueString="Smokes 1 ppd"),
        ],
        "I.C.4",
        "not-met",
        "Active substance use",
    ),
    (
        "e-cigarette: newer unreadable",
        set(),
        [_obs("ecig", ECIG, "2026-10-01", valueCodeableConcept={"text": "occasionally?"})],
        "I.C.4",
        "unknown",
        "e-cigarette status Observation/ecig ('occasionally?') cannot be read",
    ),
]


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(
        ROOT / "cql" / "DLIMedicalNecessity.cql", terminology=FolderTerminology(ROOT / "cql" / "valuesets")
    )


def _record(
    replaced: set[str], added: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    resources: list[dict[str, Any]] = []
    for value in BASE["prefetch"].values():
        if not value:
            continue
        entries = (
            [e["resource"] for e in value.get("entry", [])]
            if value.get("resourceType") == "Bundle"
            else [value]
        )
        resources += [r for r in entries if r.get("id") not in replaced]
    orders = [e["resource"] for e in BASE["context"]["draftOrders"]["entry"]]
    return resources + added, orders


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_most_recent_result_decides(
    row: tuple[str, set[str], list[dict[str, Any]], str, str, str], library: Library
) -> None:
    _, replaced, added, label, status, reason = row
    resources, orders = _record(replaced, added)
    result = library.evaluate(resources, parameters={"Order": orders[0], "Draft Orders": orders}, now=NOW)
    criterion = next(c for c in result["Criteria"] if c["label"] == label)
    assert criterion["status"] == status, criterion["reason"]
    assert reason in criterion["reason"]
    if status == "unknown":
        assert result["Outcome"] == "documentation-needed"
        assert criterion["quotes"] or label == "I.C.4"
