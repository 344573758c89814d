#!/usr/bin/env python3
"""Regenerate ``cds/cql/model/fhir-modelinfo-4.0.1.json`` from the FHIR model info XML.

    .venv/bin/python scripts/generate_fhir_model.py [PATH/fhir-modelinfo-4.0.1.xml]

The XML defaults to ``../shared/cql-spec/fhir-modelinfo-4.0.1.xml`` (or ``$DLI_CDS_FHIR_MODELINFO``).
The XML stays the source: the JSON is only its compact form, and a test fails when they differ.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cds.cql.model.modelinfo import build_table  # noqa: E402

OUT = ROOT / "cds" / "cql" / "model" / "fhir-modelinfo-4.0.1.json"


def default_xml() -> Path:
    env = os.environ.get("DLI_CDS_FHIR_MODELINFO")
    return Path(env) if env else ROOT.parent / "shared" / "cql-spec" / "fhir-modelinfo-4.0.1.xml"


def render(xml: Path) -> str:
    return json.dumps(build_table(xml), separators=(",", ":")) + "\n"


def main(argv: list[str]) -> int:
    xml = Path(argv[1]) if len(argv) > 1 else default_xml()
    OUT.write_text(render(xml), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} from {xml}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
