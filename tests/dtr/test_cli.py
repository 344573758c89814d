"""``dli-cds dtr package`` and ``dli-cds dtr prepopulate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds.cli import main

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "fhir-examples" / "07-transplant-status-only"
NOW = "2026-11-24T10:00:00Z"


def test_prepopulate_prints_the_draft_response(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dtr", "prepopulate", str(CASE / "request.json"), "--now", NOW]) == 0
    qr = json.loads(capsys.readouterr().out)
    answers = {i["linkId"]: i["answer"][0] for group in qr["item"] for i in group["item"]}
    assert "allogeneic-hsct" not in answers  # the record cannot tell: the clinician answers
    assert answers["transplant-indication-malignant"]["valueBoolean"] is True
    assert answers["acute-gvhd-grade"]["valueInteger"] == 0
    assert qr["subject"] == {"reference": "Patient/pat-07"}


def test_package_prints_the_operation_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    request = json.loads((CASE / "request.json").read_text())
    order = tmp_path / "order.json"
    order.write_text(json.dumps(request["context"]["draftOrders"]["entry"][0]["resource"]))
    coverage = tmp_path / "coverage.json"
    coverage.write_text(
        json.dumps({"resourceType": "Coverage", "id": "c1", "beneficiary": {"reference": "Patient/pat-07"}})
    )
    assert main(["dtr", "package", "--order", str(order), "--coverage", str(coverage), "--now", NOW]) == 0
    out = json.loads(capsys.readouterr().out)
    bundle = out["parameter"][0]["resource"]
    assert bundle["entry"][0]["resource"]["resourceType"] == "Questionnaire"


@pytest.mark.parametrize("content", ["{", "[]", '{"resourceType": "Patient", "id": "p"}'])
def test_bad_files_are_one_line_errors(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert main(["dtr", "package", "--order", str(bad), "--coverage", str(bad), "--now", NOW]) == 2
    assert main(["dtr", "prepopulate", str(bad), "--now", NOW]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("error: ")


@pytest.mark.parametrize(("value", "expected"), [(72.5, 72.5), (95.0, 95), ("0.0", 0), (3, 3)])
def test_decimal_answers_keep_their_fraction(value: object, expected: float) -> None:
    from cds.dtr.prepopulation import fill

    questionnaire = {"item": [{"linkId": "donor-chimerism-percent", "type": "decimal"}]}
    (item,) = fill(questionnaire, {"donor-chimerism-percent": value}, None)
    assert item["answer"] == [{"valueDecimal": expected}]
