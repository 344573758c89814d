"""The free-text reader against the reference JS engine: the phrase corpus
(``tests/text_reading/phrases.json``) read by the policy library's readers in both engines must
give the same readings, phrase by phrase (the reader is CQL, so the reference engine runs the
very same functions). Uses the toolchain of ``test_oracle.py``."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cds.cql.api import load_library
from cds.cql.terminology.folder import FolderTerminology

from ..text_reading.test_phrases import PARAMETERS, PHRASES, WRAPPER, _define
from .generate_fhirhelpers import generate
from .test_oracle import HERE, LIBRARY, ROOT, SPEC_DIR, VALUESETS

NOW = "2026-11-24T10:00:00.000+00:00"


def _texts() -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {name: [] for name in PARAMETERS}
    for row in PHRASES:
        texts[_define(row)].append(row["text"])
    return texts


def _reference(tmp: Path, texts: dict[str, list[str]]) -> dict[str, Any]:
    if not (SPEC_DIR / "fhir-modelinfo-4.0.1.xml").is_file():
        pytest.skip(f"FHIR model info not found in {SPEC_DIR} (set CQL_SPEC_DIR)")
    node = shutil.which("node")
    assert node, "node is required for the differential oracle (the test set-up installs the toolchain)"
    assert (HERE / "node_modules" / "cql-execution").is_dir(), "run tests/oracle/install.sh first"
    (tmp / "FHIRHelpers-4.0.1.cql").write_text(generate(SPEC_DIR / "fhir-modelinfo-4.0.1.xml"))
    shutil.copy(LIBRARY, tmp / "DLIMedicalNecessity.cql")
    (tmp / "PhraseReadings.cql").write_text(WRAPPER)
    (tmp / "parameters.json").write_text(json.dumps({PARAMETERS[k]: v for k, v in texts.items()}))
    proc = subprocess.run(
        [
            node,
            str(HERE / "reference_phrases.mjs"),
            str(SPEC_DIR),
            str(tmp),
            str(tmp / "PhraseReadings.cql"),
            str(LIBRARY),
            str(VALUESETS),
            NOW,
            str(tmp / "parameters.json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("{"))
    return dict(json.loads(line))


def test_every_phrase_reads_as_in_the_reference_engine(tmp_path: Path) -> None:
    texts = _texts()
    reference = _reference(tmp_path, texts)
    library = load_library(WRAPPER, library_dirs=[ROOT / "cql"], terminology=FolderTerminology(VALUESETS))
    ours = library.evaluate(
        [{"resourceType": "Patient", "id": "p"}],
        parameters={PARAMETERS[k]: v for k, v in texts.items()},
        now=dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC),
    )
    differences = [
        f"{name}: {text!r}: ours {mine!r} != reference {theirs!r}"
        for name, values in texts.items()
        for text, mine, theirs in zip(values, ours[name], reference[name], strict=True)
        if mine != theirs
    ]
    assert not differences, "\n".join(differences)
