"""Libraries load from FHIR Library resources (``content`` with ``text/cql``, base64) as well
as from ``.cql`` files; a folder may hold either, and several folders may be given."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest

from cds.cql.api import load_library
from cds.cql.cli import main
from cds.cql.errors import CqlLoadError

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _resource(name: str, version: str | None, cql: str, content_type: str = "text/cql") -> dict[str, object]:
    out: dict[str, object] = {
        "resourceType": "Library",
        "name": name,
        "status": "active",
        "content": [
            {"contentType": "application/elm+json", "data": base64.b64encode(b"{}").decode()},
            {"contentType": content_type, "data": base64.b64encode(cql.encode()).decode()},
        ],
    }
    if version is not None:
        out["version"] = version
    return out


def _folders(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "resources", tmp_path / "files"
    first.mkdir()
    second.mkdir()
    shared = "library Shared version '2.0'\ndefine function Double(x Integer): x * 2\n"
    (first / "Library-Shared.json").write_text(json.dumps(_resource("Shared", "2.0", shared)))
    (first / "unrelated.json").write_text('{"resourceType": "Patient"}')
    (second / "Other.cql").write_text('library Other\ndefine "Ten": 10\n')
    return first, second


MAIN = (
    "library Main\ninclude Shared version '2.0' called S\ninclude Other called O\n"
    'define "Twenty": S.Double(O."Ten")\n'
)


def test_include_from_a_library_resource_and_a_file_in_two_folders(tmp_path: Path) -> None:
    first, second = _folders(tmp_path)
    library = load_library(MAIN, library_dirs=[first, second])
    assert library.evaluate([], now=NOW)["Twenty"] == 20


def test_version_must_match(tmp_path: Path) -> None:
    first, second = _folders(tmp_path)
    with pytest.raises(CqlLoadError, match="included library Shared version '3.0' not found"):
        load_library(MAIN.replace("'2.0'", "'3.0'"), library_dirs=[first, second])


def test_a_library_resource_file_checks_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = _folders(tmp_path)
    main_file = tmp_path / "Library-Main.json"
    main_file.write_text(json.dumps(_resource("Main", None, MAIN)))
    argv = ["cql", "check", str(main_file), "--libraries", str(first), "--libraries", str(second)]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("ok:")


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ({"resourceType": "Library", "name": "Main", "content": []}, "has no text/cql content"),
        (
            {
                "resourceType": "Library",
                "name": "Main",
                "content": [{"contentType": "text/cql", "data": "%%"}],
            },
            "not base64",
        ),
        ({"resourceType": "Patient"}, "not a FHIR Library resource"),
    ],
)
def test_bad_library_resources_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], resource: dict[str, object], message: str
) -> None:
    path = tmp_path / "Library-Bad.json"
    path.write_text(json.dumps(resource))
    assert main(["cql", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and str(path) in err
