"""``dli-cds cql check`` / ``dli-cds cql run``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from cds.cql import cli

ROOT = Path(__file__).resolve().parents[3]

LIB = """library CliTest version '1.0.0'
using FHIR version '4.0.1'
include FHIRHelpers version '4.0.1'
parameter "Threshold" Integer default 3
context Patient
define "Birth": Patient.birthDate
define "Conditions": [Condition]
define "Sum": "Threshold" + 1
define "Code": Code { code: '1', system: 's' }
define "Nothing": null
define function "Twice"(x Integer): x * 2
"""

BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1970-03"}},
        {"resource": {"resourceType": "Condition", "id": "c1", "code": {"text": "x"}}},
    ],
}


def test_register_mounts_cql_command() -> None:
    parser = argparse.ArgumentParser(prog="dli-cds")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        ["cql", "run", "L.cql", "--data", "b.json", "--param", "A=1", "--now", "2024-01-01T00:00Z"]
    )
    assert args.handler is cli.run and args.cql_command == "run" and args.param == ["A=1"]
    with pytest.raises(SystemExit):
        parser.parse_args(["cql", "run", "L.cql"])  # --data is required


def test_check_missing_file_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["cql", "check", str(tmp_path / "none.cql")]) == cli.EXIT_CQL_ERROR
    assert "none.cql" in capsys.readouterr().err


def test_run_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "b.json").write_text("{}")
    lib = str(tmp_path / "l.cql")
    assert (
        cli.main(["cql", "run", lib, "--data", str(tmp_path / "b.json"), "--param", "novalue"])
        == cli.EXIT_USAGE
    )
    assert "NAME=CQL-LITERAL" in capsys.readouterr().err
    assert cli.main(["cql", "run", lib, "--data", str(tmp_path / "b.json"), "--now", "2024-01-01T00:00"]) == 2
    assert "timezone" in capsys.readouterr().err
    assert cli.main(["cql", "run", lib, "--data", str(tmp_path / "missing.json")]) == cli.EXIT_USAGE


def test_check_reports_errors_with_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "Good.cql", tmp_path / "Bad.cql"
    good.write_text('library Good\ndefine "X": 1\n')
    bad.write_text('library Bad\ndefine "X": 1 +\ndefine "Y": Undefined\n')
    assert cli.main(["cql", "check", str(good), str(bad)]) == cli.EXIT_CQL_ERROR
    out = capsys.readouterr()
    assert "ok:" in out.out and "Good.cql" in out.out
    assert ":2:" in out.err or ":3:" in out.err


def test_run_prints_every_public_define(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "CliTest.cql").write_text(LIB)
    (tmp_path / "bundle.json").write_text(json.dumps(BUNDLE))
    code = cli.main(
        ["cql", "run", str(tmp_path / "CliTest.cql"), "--data", str(tmp_path / "bundle.json"),
         "--param", "Threshold=41", "--now", "2024-05-01T00:00:00Z"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out)
    assert out == {
        "Patient": "Patient/p1",
        "Birth": "1970-03",
        "Conditions": ["Condition/c1"],
        "Sum": 42,
        "Code": {"system": "s", "code": "1"},
        "Nothing": None,
    }


def test_check_project_library() -> None:
    lib = ROOT / "cql" / "DLIMedicalNecessity.cql"
    status = cli.main(["cql", "check", str(lib), "--valuesets", str(ROOT / "cql" / "valuesets")])
    assert status == cli.EXIT_OK


_VALUESET_LIBRARY = """library VS
using FHIR version '4.0.1'
valueset "X": 'http://example.org/vs'
context Patient
define "Has": exists [Condition: "X"]
"""


def test_check_needs_no_terminology_and_run_fails_closed_without_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lib = tmp_path / "VS.cql"
    lib.write_text(_VALUESET_LIBRARY, encoding="utf-8")
    assert cli.main(["cql", "check", str(lib)]) == cli.EXIT_OK
    bundle = tmp_path / "b.json"
    condition = {"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p"},
                 "code": {"coding": [{"system": "s", "code": "1"}]}}  # fmt: skip
    entries = [{"resource": {"resourceType": "Patient", "id": "p"}}, {"resource": condition}]
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}), "utf-8")
    assert cli.main(["cql", "run", str(lib), "--data", str(bundle)]) == cli.EXIT_CQL_ERROR
    err = capsys.readouterr().err
    assert "without a terminology" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
