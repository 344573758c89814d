"""Survey a folder of CQL libraries: does each one check, run on a sample record, and translate
to ELM? Prints a Markdown table (library name → result; never library text).

    .venv/bin/python scripts/survey_libraries.py DIR [--libraries DIR ...] [--data BUNDLE.json]

Each library is loaded with its own folder (and every ``--libraries`` folder) as the library
path. ``check`` loads it with the default options (list promotion and demotion off, as in the
reference translator); ``with options`` loads it with both on (what older libraries are written
with). ``run`` evaluates every public define, with every value set empty, against the bundle
(default: the first ``fhir-examples/`` request's prefetch and draft orders) at a fixed time, and
``elm`` translates it, both with the options it checks with (the defaults when it checks so).
The first line of each error is shown. The options each library needs, as the reference
translator says, are the table of ``tests/cql/elm/test_survey_libraries.py``.
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
    rows = ["| library | check | with options | run | elm |", "|---|---|---|---|---|"]
    counts = [0, 0, 0, 0]
    files = sorted(folder.glob("*.cql"))
    both = {"list_promotion": True, "list_demotion": True}
    for path in files:
        dirs = [folder, *library_dirs]
        cells: list[str] = []
        library = None
        options: dict[str, bool] = {}
        for column, tried in enumerate(({}, both)):
            try:
                load_library(path, library_dirs=dirs, **tried)
                cells.append(_cell(True, ""))
                counts[column] += 1
                if library is None:
                    library, options = path, tried
            except Exception as exc:  # noqa: BLE001 - the survey records every failure
                cells.append(_cell(False, _first_error(exc)))
        if library is None:
            cells.append("—")
        else:
            try:
                runnable = load_library(path, library_dirs=dirs, terminology=EmptyTerminology(), **options)
                runnable.evaluate(resources, now=NOW)
                cells.append(_cell(True, ""))
                counts[2] += 1
            except Exception as exc:  # noqa: BLE001
                cells.append(_cell(False, _first_error(exc)))
        try:
            library_elm(path, library_dirs=dirs, **(options or both))
            cells.append(_cell(True, ""))
            counts[3] += 1
        except Exception as exc:  # noqa: BLE001
            cells.append(_cell(False, _first_error(exc)))
        rows.append(f"| {path.stem} | " + " | ".join(cells) + " |")
    total = " | ".join(f"**{c}**" for c in counts)
    rows.append(f"| **{len(files)} libraries** | {total} |")
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
