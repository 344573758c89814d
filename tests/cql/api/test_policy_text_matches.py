"""The policy's "Text Matches" (written to read the text and each display directly) answers as
testing every element of its "Texts" list does, on the concept shapes EHRs send."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from cds.cql.api import load_library
from cds.cql.terminology.folder import FolderTerminology

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
CHECK = """library TextMatchesCheck version '1'
using FHIR version '4.0.1'
include FHIRHelpers version '4.0.1' called FHIRHelpers
include DLIMedicalNecessity version '1.0.0' called D
context Patient
define "Pairs":
  ([Observation] O return all Tuple {
    id: O.id,
    direct: D."Text Matches"(O.code, D."Chimerism Text Pattern"),
    listed: exists ((D."Texts"(O.code)) T where Matches(Lower(T), D."Chimerism Text Pattern"))
  })
"""
CODES: list[dict[str, Any] | None] = [
    {"text": "Chimerism, donor %"},
    {"text": "Hemoglobin"},
    {"coding": [{"system": "http://loinc.org", "code": "x", "display": "Engraftment study"}]},
    {"coding": [{"system": "http://loinc.org", "code": "x", "display": "Hemoglobin"}], "text": "CHIMERISM"},
    {"coding": [{"code": "x"}, {"display": "other"}, {"display": "chimerism panel"}]},
    {"coding": [{"code": "x"}]},
    {"_text": {"extension": [{"url": "http://example.org/e", "valueString": "chimerism"}]}},
    {},
    None,
]


def test_text_matches_agrees_with_the_texts_list() -> None:
    library = load_library(
        CHECK,
        library_dirs=[ROOT / "cql"],
        terminology=FolderTerminology(ROOT / "cql" / "valuesets"),
    )
    resources: list[dict[str, Any]] = [{"resourceType": "Patient", "id": "p"}]
    for i, code in enumerate(CODES):
        obs: dict[str, Any] = {"resourceType": "Observation", "id": f"o{i}", "status": "final"}
        if code is not None:
            obs["code"] = code
        resources.append(obs)
    pairs = library.evaluate(resources, now=NOW)["Pairs"]
    assert len(pairs) == len(CODES)
    assert [p["direct"] for p in pairs] == [p["listed"] for p in pairs]
    assert [p["direct"] for p in pairs] == [True, False, True, True, True, False, False, False, False]
