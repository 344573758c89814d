"""``dli-cds evaluate``: the criterion-by-criterion trace prints each criterion's quotes (the free
text it read), and no input gives a traceback — a request that cannot be answered is exit 2 with
one ``error:`` line, a library row with a null reason is still traced."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cds import evaluation
from cds.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "fhir-examples"
CASE = EXAMPLES / "53-negated-finding-beside-manipulated-product"
NOW = "2026-11-24T10:00:00Z"


def _request() -> dict[str, Any]:
    body: dict[str, Any] = json.loads((CASE / "request.json").read_text())
    return body


def _with_hook(hook: str) -> dict[str, Any]:
    body = _request()
    body["hook"] = hook
    return body


def _unreadable_record() -> dict[str, Any]:
    """The chimerism Observation's code is a string where a CodeableConcept belongs."""
    body = _request()
    for entry in body["prefetch"]["labObservations"]["entry"]:
        entry["resource"]["code"] = "chimerism"
    return body


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["evaluate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_trace_prints_each_criterion_with_its_quotes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run([str(CASE / "request.json"), "--now", NOW], capsys)
    assert code == 10  # not medically necessary (II.B)
    assert json.loads(out) == json.loads((CASE / "expected.json").read_text())
    lines = err.splitlines()
    ii_b = next(i for i, line in enumerate(lines) if line.strip().startswith("II.B"))
    assert "not-met" in lines[ii_b] and "[ServiceRequest/dli-1]" in lines[ii_b]
    assert lines[ii_b + 1].strip() == "text: order detail: 'No prior GvHD, CD45RA-depleted DLI'"
    assert lines[ii_b + 2].strip() == "text: order detail: 'Not urgent, CD34-selected cells'"
    assert lines[ii_b + 3].strip().startswith("II.C")


# (name, file content: bytes, or a JSON value, or None for no file; extra arguments; words the
# error line must hold)
BAD_INPUTS: list[tuple[str, Any, list[str], str]] = [
    ("missing file", None, [], "cannot read the file"),
    ("not JSON", b"{not json", [], "not JSON"),
    ("not UTF-8", b"\xff\xfe{\x00}", [], "cannot read the file"),
    ("nested too deeply", b"[" * 200_000, [], "not JSON"),
    ("a JSON list", [1, 2], [], "not a CDS Hooks request"),
    ("a JSON string", "order-sign", [], "not a CDS Hooks request"),
    ("not a hook request", {"hello": "world"}, [], "hook: Field required"),
    ("another hook", _with_hook("order-select"), [], "order-sign"),
    ("a record the engine cannot read", _unreadable_record(), [], "Observation/chimerism is not valid FHIR"),
    ("a clock without offset", _request(), ["--now", "2026-11-24T10:00:00"], "--now"),
    ("not a clock", _request(), ["--now", "yesterday"], "--now"),
]


@pytest.mark.parametrize(
    ("content", "extra", "words"), [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_is_one_error_line(
    tmp_path: Path, content: Any, extra: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "request.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(json.dumps(content))
    code, out, err = _run([str(path), *(extra or ["--now", NOW])], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert words in err
    assert "Traceback" not in err


def _nulled(change: Callable[[list[dict[str, Any]]], None]) -> Callable[[Any, Any], dict[str, Any]]:
    results = evaluation.PolicyEngine.results

    def patched(self: Any, ctx: Any) -> dict[str, Any]:
        values = dict(results(self, ctx))
        rows = [dict(r) for r in values["Criteria"] or []]
        change(rows)
        values["Criteria"] = rows
        return values

    return patched


def _null_reasons(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        row["reason"] = None
        row["quotes"] = None


def _null_status(rows: list[dict[str, Any]]) -> None:
    rows[3]["status"] = None


def test_null_reason_is_traced_not_raised(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(evaluation.PolicyEngine, "results", _nulled(_null_reasons))
    code, out, err = _run([str(CASE / "request.json"), "--now", NOW], capsys)
    assert code == 10
    assert json.loads(out)["cards"][0]["summary"].startswith(
        "Donor lymphocyte infusion not medically necessary"
    )
    assert "Traceback" not in err
    ii_b = next(line for line in err.splitlines() if line.strip().startswith("II.B"))
    assert ii_b.split() == ["II.B", "not-met", "-", "[ServiceRequest/dli-1]"]
    assert "text:" not in err


def test_null_status_is_exit_2_naming_the_criterion(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(evaluation.PolicyEngine, "results", _nulled(_null_status))
    code, out, err = _run([str(CASE / "request.json"), "--now", NOW], capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "I.C.1" in err and "status None" in err
    assert "Traceback" not in err
