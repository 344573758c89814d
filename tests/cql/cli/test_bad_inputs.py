"""The CLI never shows a Python traceback: each bad input gives one line per problem, with its
position where there is one, and a non-zero exit. Runs the real command in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = "library Good\nusing FHIR version '4.0.1'\ncontext Patient\ndefine \"One\": 1\n"


def _write(folder: Path) -> None:
    (folder / "Good.cql").write_text(GOOD, encoding="utf-8")
    (folder / "libs").mkdir()
    (folder / "libs" / "Broken.cql").write_text('library Broken\ndefine "X": (1 +\n', encoding="utf-8")
    (folder / "UsesBroken.cql").write_text(
        'library UsesBroken\ninclude Broken called B\ndefine "Y": B."X"\n', encoding="utf-8"
    )
    (folder / "UnknownType.cql").write_text(
        "library UnknownType\nusing FHIR version '4.0.1'\ndefine function F(x FHIR.NoSuchThing): 1\n",
        encoding="utf-8",
    )
    (folder / "bundle.json").write_text('{"resourceType": "Bundle", "entry": [', encoding="utf-8")
    (folder / "patient.json").write_text(json.dumps({"resourceType": "Patient", "id": "p"}), encoding="utf-8")
    (folder / "notcql.cql").write_bytes(b"\xff\xfe\x00garbage")


CASES = [
    ("missing file", ["check", "Absent.cql"], "Absent.cql"),
    ("syntax error in an included library", ["check", "UsesBroken.cql", "--libraries", "libs"], "Broken:"),
    ("unknown type", ["check", "UnknownType.cql"], "UnknownType:3:"),
    ("not UTF-8", ["check", "notcql.cql"], "notcql.cql"),
    ("bad bundle", ["run", "Good.cql", "--data", "bundle.json"], "bundle.json"),
    ("missing bundle", ["run", "Good.cql", "--data", "none.json"], "none.json"),
    ("bad --param", ["run", "Good.cql", "--data", "patient.json", "--param", "nothing"], "--param"),
    ("bad --param literal", ["run", "Good.cql", "--data", "patient.json", "--param", "P=(1 +"], "P"),
    ("bad --now", ["run", "Good.cql", "--data", "patient.json", "--now", "yesterday"], "yesterday"),
    ("missing include", ["check", "UsesBroken.cql"], "Broken"),
    ("elm of a missing file", ["elm", "Absent.cql"], "Absent.cql"),
    ("elm syntax error in include", ["elm", "UsesBroken.cql", "--libraries", "libs"], "Broken:"),
]


@pytest.mark.parametrize(("case", "argv", "mentions"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_per_problem_without_traceback(
    tmp_path: Path, case: str, argv: list[str], mentions: str
) -> None:
    _write(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "cds.cql.cli", "cql", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0, case
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("error: ") for line in lines), done.stderr
    assert mentions in done.stderr, done.stderr


def test_good_input_still_runs(tmp_path: Path) -> None:
    _write(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "cds.cql.cli", "cql", "run", "Good.cql", "--data", "patient.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["One"] == 1
