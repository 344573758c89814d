"""The phrase corpus (``phrases.json``): every phrasing is read by the policy library's free-text
reader — the functions the criteria call — and must give the expected reading.

The readers are evaluated through a small wrapper library that includes the policy library, once
per reader with every phrase of that reader as a list parameter (the engine's whole path: parse,
compile, evaluate). Rows are reported one by one.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cds.cql.api import load_library
from cds.cql.terminology.folder import FolderTerminology

ROOT = Path(__file__).resolve().parents[2]
CORPUS = json.loads((Path(__file__).parent / "phrases.json").read_text())
PHRASES: list[dict[str, Any]] = CORPUS["phrases"]
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
WRAPPER = """library PhraseReadings version '1'
using FHIR version '4.0.1'
include FHIRHelpers version '4.0.1' called FHIRHelpers
include DLIMedicalNecessity version '1.0.0' called D
parameter "Manipulation Texts" List<String>
parameter "DLI Texts" List<String>
parameter "Chimerism Texts" List<String>
parameter "Recipient Chimerism Texts" List<String>
parameter "Grade Texts" List<String>
parameter "Smoking Texts" List<String>
context Patient
define function "Chimerism Category"(I Interval<Decimal>):
  case
    when I is null then 'unreadable'
    when D."Is Total Host"(I) then 'total-host'
    when D."Is Mixed"(I) then 'mixed'
    when D."Is Total Host"(I) = false and D."Is Mixed"(I) = false then 'not-mixed'
    else 'undecided'
  end
define function "Grade Category"(G Interval<Integer>):
  case
    when G is null then null
    when start of G > D."Highest Acceptable Acute GvHD Grade" then 'above'
    when end of G <= D."Highest Acceptable Acute GvHD Grade" then 'not-above'
    else 'straddles'
  end
define "manipulation": "Manipulation Texts" T return all D."Read Text"(T, D."Manipulation Terms").status
define "dli": "DLI Texts" T return all D."Read Text"(T, D."DLI Terms").status
define "chimerism": "Chimerism Texts" T return all "Chimerism Category"(D."Text Donor Interval"(T, false))
define "recipient chimerism":
  "Recipient Chimerism Texts" T return all "Chimerism Category"(D."Text Donor Interval"(T, true))
define "grade": "Grade Texts" T return all "Grade Category"(D."Grade In Text"(T))
define "smoking": "Smoking Texts" T return all D."Smoking Text Status"(T)
"""
PARAMETERS = {
    "manipulation": "Manipulation Texts",
    "dli": "DLI Texts",
    "chimerism": "Chimerism Texts",
    "recipient chimerism": "Recipient Chimerism Texts",
    "grade": "Grade Texts",
    "smoking": "Smoking Texts",
}


def _define(row: dict[str, Any]) -> str:
    return "recipient chimerism" if row.get("recipient") else row["reader"]


@pytest.fixture(scope="module")
def readings() -> dict[tuple[str, str], Any]:
    library = load_library(
        WRAPPER, library_dirs=[ROOT / "cql"], terminology=FolderTerminology(ROOT / "cql" / "valuesets")
    )
    texts: dict[str, list[str]] = {name: [] for name in PARAMETERS}
    for row in PHRASES:
        texts[_define(row)].append(row["text"])
    result = library.evaluate(
        [{"resourceType": "Patient", "id": "p"}],
        parameters={PARAMETERS[name]: values for name, values in texts.items()},
        now=NOW,
    )
    out: dict[tuple[str, str], Any] = {}
    for name, values in texts.items():
        read = result[name]
        assert len(read) == len(values)
        out.update({(name, text): value for text, value in zip(values, read, strict=True)})
    return out


def test_the_corpus_is_large_and_covers_every_reading() -> None:
    assert len(PHRASES) >= 150
    seen = {(row["reader"], row["expected"]) for row in PHRASES}
    for reader, expected in [
        ("manipulation", "affirmed"),
        ("manipulation", "negated"),
        ("manipulation", "hypothetical"),
        ("chimerism", "total-host"),
        ("chimerism", "unreadable"),
        ("chimerism", "undecided"),
        ("grade", "straddles"),
        ("smoking", None),
    ]:
        assert (reader, expected) in seen, (reader, expected)


@pytest.mark.parametrize("row", PHRASES, ids=[f"{r['reader']}:{r['text']}" for r in PHRASES])
def test_phrase_reading(row: dict[str, Any], readings: dict[tuple[str, str], Any]) -> None:
    assert readings[(_define(row), row["text"])] == row["expected"], row["source"]
