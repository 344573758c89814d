"""``dli-cds pas submit`` answers every ``fhir-examples/pas/*/`` submission as the HTTP route does
(the golden body), with the exit status of its worst item; bad input is exit 2, never a
traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds.cli import main

ROOT = Path(__file__).resolve().parents[2] / "fhir-examples" / "pas"
CASES = [
    p.parent for p in sorted(ROOT.glob("*/case.json")) if json.loads(p.read_text())["operation"] == "submit"
]
EXIT = {"meets-criteria": 0, "not-medically-necessary": 10, "documentation-needed": 11}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cli_answers_like_the_route(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    meta = json.loads((case / "case.json").read_text())
    code = main(["pas", "submit", str(case / "bundle.json"), "--now", meta["now"]])
    out, err = capsys.readouterr()
    if meta["status"] != 200:
        assert code == 2 and out == ""
        assert err.startswith("error: ") and "Traceback" not in err
        return
    assert json.loads(out) == json.loads((case / "expected.json").read_text())
    assert code == max(EXIT[o] for o in meta["outcomes"].values())


@pytest.mark.parametrize(("content", "message"), [(None, "No such file"), ("{not json", "error: ")])
def test_cli_bad_input(
    tmp_path: Path, content: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bundle.json"
    if content is not None:
        path.write_text(content)
    assert main(["pas", "submit", str(path)]) == 2
    assert message in capsys.readouterr().err
