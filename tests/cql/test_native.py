"""The engine as installed: compiled with mypyc (setup.py) unless DLI_CDS_PURE_PYTHON=1, and a
compiled module older than its source refused at import rather than run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import cds.cql
from cds.cql import StaleNativeModules

PURE = os.environ.get("DLI_CDS_PURE_PYTHON") == "1"


@pytest.mark.skipif(PURE, reason="installed with DLI_CDS_PURE_PYTHON=1: the engine runs uncompiled")
def test_engine_is_compiled() -> None:
    assert cds.cql.native(), (
        "the CQL engine was installed without its compiled modules: run scripts/bootstrap.sh"
    )
    assert cds.cql.MANIFEST.exists()


@pytest.mark.skipif(PURE, reason="installed with DLI_CDS_PURE_PYTHON=1: nothing is compiled")
def test_a_changed_source_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = json.loads(cds.cql.MANIFEST.read_text())
    assert "cds/cql/compiler/queries.py" in built
    cds.cql._check_native()  # as built: accepted

    changed = dict(built, **{"cds/cql/compiler/queries.py": "0" * 64})
    manifest = tmp_path / "native-sources.json"
    manifest.write_text(json.dumps(changed))
    monkeypatch.setattr(cds.cql, "MANIFEST", manifest)
    with pytest.raises(StaleNativeModules, match=r"cds/cql/compiler/queries\.py.*scripts/bootstrap\.sh"):
        cds.cql._check_native()
