"""``dli-cds cql elm`` and ``cds.cql.api.library_elm``: the ELM library object, and one-line
errors with positions (exit 1, no traceback) for bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds.cql import cli
from cds.cql.api import library_elm
from cds.cql.errors import CqlLoadError

ROOT = Path(__file__).resolve().parents[3]
POLICY = ROOT / "cql" / "DLIMedicalNecessity.cql"


def test_policy_elm_has_the_library_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "policy.json"
    assert cli.main(["cql", "elm", str(POLICY), "--out", str(out)]) == cli.EXIT_OK
    library = json.loads(out.read_text())["library"]
    assert library["identifier"] == {"id": "DLIMedicalNecessity", "version": "1.0.0"}
    assert library["schemaIdentifier"] == {"id": "urn:hl7-org:elm", "version": "r1"}
    assert {"localIdentifier": "FHIR", "uri": "http://hl7.org/fhir", "version": "4.0.1"} in library["usings"][
        "def"
    ]
    assert library["includes"]["def"] == [
        {"localIdentifier": "FHIRHelpers", "path": "FHIRHelpers", "version": "4.0.1"}
    ]
    declared = [line.split('"')[1] for line in POLICY.read_text().splitlines() if line.startswith("valueset ")]
    assert [v["name"] for v in library["valueSets"]["def"]] == declared
    assert [p["name"] for p in library["parameters"]["def"]] == ["Order", "Draft Orders", "Questionnaire URL"]
    names = [d["name"] for d in library["statements"]["def"]]
    assert names[0] == "Patient" and "Outcome" in names and "Criteria" in names
    assert "annotation" not in out.read_text()
    assert capsys.readouterr().err == ""


def test_elm_to_standard_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lib = tmp_path / "T.cql"
    lib.write_text("library T\ndefine X: 1 + 2.0\n")
    assert cli.main(["cql", "elm", str(lib)]) == cli.EXIT_OK
    statement = json.loads(capsys.readouterr().out)["library"]["statements"]["def"][0]
    assert statement["expression"] == {
        "type": "Add",
        "operand": [
            {
                "type": "ToDecimal",
                "operand": {
                    "type": "Literal",
                    "valueType": "{urn:hl7-org:elm-types:r1}Integer",
                    "value": "1",
                },
            },
            {"type": "Literal", "valueType": "{urn:hl7-org:elm-types:r1}Decimal", "value": "2.0"},
        ],
    }


@pytest.mark.parametrize(
    ("files", "main", "expected"),
    [
        ({}, "Missing.cql", "Missing.cql: No such file or directory"),
        ({"T.cql": "library T\ndefine X: (1 + \n"}, "T.cql", "T:"),
        (
            {"T.cql": "library T\ndefine X: 1 + 'a'\n"},
            "T.cql",
            "T:2:13: no operator + for (System.Integer, System.String)",
        ),
        ({"T.cql": "library T\ndefine X: 1 as Foo\n"}, "T.cql", "T:2:16: unknown type Foo"),
        (
            {"T.cql": "library T\ndefine X: descendents(Tuple { a: 1 })\n"},
            "T.cql",
            "T:2:11: cannot type the function 'descendents'",
        ),
        (
            {
                "T.cql": "library T\ninclude Lib called L\ndefine X: L.Y\n",
                "Lib.cql": "library Lib\ndefine Y: (\n",
            },
            "T.cql",
            "Lib:",
        ),
        (
            {"T.cql": "library T\ninclude Nope called N\ndefine X: 1\n"},
            "T.cql",
            "included library Nope not found",
        ),
    ],
)
def test_bad_inputs_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], main: str, expected: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    code = cli.main(["cql", "elm", str(tmp_path / main), "--libraries", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == cli.EXIT_CQL_ERROR
    assert captured.out == ""
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines)
    assert expected in captured.err


def test_api_raises_load_errors() -> None:
    with pytest.raises(CqlLoadError) as info:
        library_elm("library T\ndefine X: Upper(1)\n")
    assert "T:2:11: no Upper operator for (System.Integer)" in str(info.value)


def test_list_promotion_is_an_option() -> None:
    text = "library T\ndefine X: Concept { codes: Code { code: '1' } }\n"
    with pytest.raises(CqlLoadError):
        library_elm(text)
    concept = library_elm(text, list_promotion=True)["library"]["statements"]["def"][0]["expression"]
    assert concept["element"][0]["value"]["type"] == "ToList"


def test_list_promotion_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lib = tmp_path / "T.cql"
    lib.write_text("library T\ndefine X: Concept { codes: Code { code: '1' } }\n")
    assert cli.main(["cql", "elm", str(lib)]) == cli.EXIT_CQL_ERROR
    assert "expected List<System.Code>, found System.Code" in capsys.readouterr().err
    assert cli.main(["cql", "elm", str(lib), "--list-promotion"]) == cli.EXIT_OK
    assert '"ToList"' in capsys.readouterr().out
