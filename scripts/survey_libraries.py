"""Survey a folder of CQL libraries: does each one check, run on a sample record, and translate
to ELM? Prints a Markdown table (library name → result; never library text).

    .venv/bin/python scripts/survey_libraries.py DIR [--libraries DIR ...] [--data BUNDLE.json]

Each library is loaded with its own folder (and every ``--libraries`` folder) as the library
path. ``run`` evaluates every public define, with every value set empty, against the bundle (default: the first
``fhir-examples/`` request's prefetch and draft orders) at a fixed time. The first line of each error is shown.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from cds.cql.api import library_elm, load_library
from cds.cql.errors import CqlError, CqlLoadError
from cds.cql.runtime.clinical import Code, CodeSystemRef, ValueSetRef

NOW = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)


class EmptyTerminology:
    """For ``run`` only: every value set and code system exists and is empty (the survey has no
    expansions; without a terminology a retrieve by value set fails closed)."""

    def has_valueset(self, url: str, version: str | None = None) -> bool:
        return True

    def has_codesystem(self, url: str, version: str | None = None) -> bool:
        return True

    def expand(self, valueset: ValueSetRef) -> list[Code]:
        return []

    def in_valueset(self, value: object, valueset: ValueSetRef) -> bool:
        return False

    def in_codesystem(self, value: object, codesystem: CodeSystemRef) -> bool:
        return False


def _first_error(exc: Exception) -> str:
    if isinstance(exc, CqlLoadError) and exc.errors:
        exc = exc.errors[0]
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if isinstance(exc, CqlError) else f"{type(exc).__name__}: {text}"


def _cell(ok: bool, error: str) -> str:
    return "ok" if ok else "fail: " + error.replace("|", "\\|")[:150]


def survey(folder: Path, library_dirs: list[Path], resources: list[dict[str, object]]) -> list[str]:
    rows = ["| library | check | run | elm |", "|---|---|---|---|"]
    counts = [0, 0, 0]
    files = sorted(folder.glob("*.cql"))
    for path in files:
        dirs = [folder, *library_dirs]
        cells: list[str] = []
        library = None
        try:
            library = load_library(path, library_dirs=dirs)
            cells.append(_cell(True, ""))
            counts[0] += 1
        except Exception as exc:  # noqa: BLE001 - the survey records every failure
            cells.append(_cell(False, _first_error(exc)))
        if library is None:
            cells.append("—")
        else:
            try:
                runnable = load_library(path, library_dirs=dirs, terminology=EmptyTerminology())
                runnable.evaluate(resources, now=NOW)
                cells.append(_cell(True, ""))
                counts[1] += 1
            except Exception as exc:  # noqa: BLE001
                cells.append(_cell(False, _first_error(exc)))
        try:
            library_elm(path, library_dirs=dirs, list_promotion=True)
            cells.append(_cell(True, ""))
            counts[2] += 1
        except Exception as exc:  # noqa: BLE001
            cells.append(_cell(False, _first_error(exc)))
        rows.append(f"| {path.stem} | " + " | ".join(cells) + " |")
    rows.append(f"| **{len(files)} libraries** | **{counts[0]}** | **{counts[1]}** | **{counts[2]}** |")
    return rows


def _resources(value: object) -> list[dict[str, object]]:
    if isinstance(value, list):
        return [r for v in value for r in _resources(v)]
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        return [r for e in value.get("entry", []) for r in _resources(e.get("resource"))]
    if "resourceType" in value:
        return [value]
    if "prefetch" in value:  # a CDS Hooks request: its prefetch and draft orders
        return _resources(list(value["prefetch"].values())) + _resources(
            value.get("context", {}).get("draftOrders")
        )
    return []


def _sample_resources(data: Path | None) -> list[dict[str, object]]:
    if data is None:
        data = Path("fhir-examples/01-meets-aml-relapse-prevention/request.json")
    return _resources(json.loads(data.read_text(encoding="utf-8")))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--libraries", dest="library_dirs", action="append", type=Path, default=[])
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    print("\n".join(survey(args.folder, args.library_dirs, _sample_resources(args.data))))


if __name__ == "__main__":
    main()
