"""The cardinality table is cached on disk and read back identically."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds.cql.model import fhir_cardinality


def test_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLI_CDS_CACHE_DIR", str(tmp_path))
    args = (["Observation", "HumanName"], frozenset({"Observation.component"}), frozenset[str]())
    built = fhir_cardinality.load_list_paths(*args)
    assert built["Observation.category"] is True and built["Observation.code"] is False
    assert built["Observation.component.code"] is False and built["HumanName.given"] is True
    assert fhir_cardinality.cache_path().is_file()
    assert fhir_cardinality.load_list_paths([], frozenset(), frozenset()) == built


def test_unwritable_cache_still_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("DLI_CDS_CACHE_DIR", str(blocker / "sub"))
    table = fhir_cardinality.load_list_paths(["Patient"], frozenset(), frozenset())
    assert table["Patient.name"] is True and table["Patient.birthDate"] is False
