"""The packaged FHIR model table is what the model info XML gives today (never a stale copy)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
XML = Path(
    os.environ.get("DLI_CDS_FHIR_MODELINFO")
    or ROOT.parent / "shared" / "cql-spec" / "fhir-modelinfo-4.0.1.xml"
)


def _generator() -> object:
    spec = importlib.util.spec_from_file_location(
        "generate_fhir_model", ROOT / "scripts" / "generate_fhir_model.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    not XML.is_file(), reason=f"model info XML not found at {XML} (set DLI_CDS_FHIR_MODELINFO)"
)
def test_packaged_table_matches_the_xml() -> None:
    generator = _generator()
    packaged = (ROOT / "cds" / "cql" / "model" / "fhir-modelinfo-4.0.1.json").read_text(encoding="utf-8")
    assert packaged == generator.render(XML), "stale: run scripts/generate_fhir_model.py"  # type: ignore[attr-defined]


@pytest.mark.skipif(not XML.is_file(), reason=f"model info XML not found at {XML}")
def test_table_has_bound_code_types_choices_and_primary_code_paths() -> None:
    from cds.cql.model.modelinfo import build_table

    table = build_table(XML)
    assert table["primitives"]["TestScriptRequestMethodCode"] == "System.String"
    base, code_path, retrievable, elements = table["types"]["Observation"]
    assert (base, code_path, retrievable) == ("DomainResource", "code", True)
    assert "Quantity" in elements["value"][0] and elements["value"][1] is False
    assert elements["component"] == ["Observation.Component", True]


def test_bound_code_types_of_the_model_info_are_known_types() -> None:
    from cds.cql.model import fhir_model

    assert fhir_model.is_fhir_type("TestScriptRequestMethodCode")
    assert fhir_model.is_fhir_type("FHIR.SortDirection")
    assert not fhir_model.is_fhir_type("strandType")  # a FHIR 4.0.0 model info name, not 4.0.1
