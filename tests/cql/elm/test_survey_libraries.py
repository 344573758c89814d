"""The real-world survey (docs/real-world-libraries.md) against the reference translator and
the reference engine: for every library of the folder ``$DLI_CDS_SURVEY_LIBS`` (the Da Vinci
CDS-Library R4 texts; never committed),

- our load result (loads / refused) equals the reference translator's (``@cqframework/cql``,
  translated without errors or not), with the default options and with the options the library
  needs (:data:`LIST_OPTIONS`);
- for each library that loads, our ELM run in ``cql-execution`` equals our engine on the first
  example record (the survey's run: its prefetch and draft orders, every value set empty), define
  by define.

The libraries declare FHIR 4.0.0, which the engine reads as 4.0.1 (with the 4.0.0 model info's
19 bound-code types, :mod:`cds.cql.model.fhir_400`); the reference translator is given the same
model: the 4.0.1 model info relabelled 4.0.0 with those types added (written at test time from
``$CQL_SPEC_DIR``). A library's FHIR-resource parameters (``parameter Patient Patient``,
``parameter device_request DeviceRequest``) get the record's first resource of that type, in
both engines.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cds.cql.api import library_elm, load_library
from cds.cql.errors import CqlError
from cds.cql.model.fhir_400 import CODE_TYPES_4_0_0
from cds.cql.result_json import to_json
from scripts.survey_libraries import EmptyTerminology
from tests.oracle.test_oracle import _normalise, _same

from .test_elm_differential import ROOT, SPEC_DIR, node_or_skip

HERE = Path(__file__).resolve().parent
FOLDER = Path(os.environ["DLI_CDS_SURVEY_LIBS"]) if os.environ.get("DLI_CDS_SURVEY_LIBS") else None
LIBRARIES = sorted(p.stem for p in FOLDER.glob("*.cql")) if FOLDER is not None and FOLDER.is_dir() else []
SKIP_REASON = (
    "set DLI_CDS_SURVEY_LIBS to the folder of the surveyed libraries (the Da Vinci CDS-Library R4 "
    "texts, docs/real-world-libraries.md; never committed)"
)
RECORD = ROOT / "fhir-examples" / "01-meets-aml-relapse-prevention" / "request.json"
NOW = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)

#: The reference translator's list options each library needs (both off by default, as there),
#: with what needs them. Every other library translates with the defaults.
LIST_OPTIONS: dict[str, tuple[str, ...]] = {
    # Coalesce over a String and a List<String> (the reference instantiates T from the first
    # operand: the list must be demoted); `List<FHIR.code> = String`
    "BasicClinicalInfoPrepopulation-0.1.0": ("list_demotion",),
    # Coalesce over a String and a List<String>
    "BasicPractitionerInfoPrepopulation-0.1.0": ("list_demotion",),
    # FHIRHelpers.ToCode of a List<Coding> (`"MonitorTiming".code.coding`)
    "HomeBloodGlucoseMonitorFaceToFacePrepopulation-0.0.1": ("list_demotion",),
    # flatten of a list of tuples (each promoted to a list)
    "HomeHealthServicesPlanOfCarePrepopulation-0.0.1": ("list_promotion",),
    # exists of a Quantity; Coalesce of one String
    "HomeOxygenTherapyPrepopulation-0.1.0": ("list_promotion",),
    # `Coverage.class.value = 'Medicare Part A'` (a List<FHIR.string> and a String; either
    # option resolves it)
    "HomeOxygenTherapyRule-0.1.0": ("list_demotion",),
    # `union` of a choice and a DateTime; an `if` with a single and a list branch
    "ImmunosuppressiveDrugsPrepopulation-0.1.0": ("list_promotion",),
    # `in` between two List<String> (the left one demoted)
    "ImmunosuppressiveDrugsRule-0.1.0": ("list_demotion",),
    # exists of a Decimal
    "RespiratoryAssistDevicesPrepopulation-0.1.0": ("list_promotion",),
}
FLAGS = {"list_promotion": "--list-promotion", "list_demotion": "--list-demotion"}


def _options(stem: str) -> dict[str, bool]:
    return {name: name in LIST_OPTIONS.get(stem, ()) for name in FLAGS}


def _resources() -> list[dict[str, Any]]:
    request = json.loads(RECORD.read_text(encoding="utf-8"))
    out: list[dict[str, Any]] = []
    for value in request["prefetch"].values():
        if value and value.get("resourceType") == "Bundle":
            out.extend(e["resource"] for e in value.get("entry", []))
        elif value and "resourceType" in value:
            out.append(value)
    out.extend(e["resource"] for e in request["context"]["draftOrders"].get("entry", []))
    return out


def _model_dir(work: Path) -> Path:
    """The FHIR 4.0.1 model info, and a 4.0.0 one: the same relabelled, with the 4.0.0
    bound-code types (each a FHIR.Element with a String value), as the engine reads 4.0.0."""
    source = SPEC_DIR / "fhir-modelinfo-4.0.1.xml"
    if not source.is_file():
        pytest.skip(f"FHIR model info not found in {SPEC_DIR} (set CQL_SPEC_DIR)")
    models = work / "models"
    models.mkdir()
    text = source.read_text(encoding="utf-8")
    (models / "fhir-modelinfo-4.0.1.xml").write_text(text, encoding="utf-8")
    (models / "system-modelinfo.xml").write_text(
        (SPEC_DIR / "system-modelinfo.xml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    extra = "".join(
        f'   <typeInfo xsi:type="ClassInfo" baseType="FHIR.Element" namespace="FHIR" name="{name}"'
        ' retrievable="false">\n      <element name="value" elementType="System.String"/>\n'
        "   </typeInfo>\n"
        for name in sorted(CODE_TYPES_4_0_0)
    )
    relabelled = text.replace('name="FHIR" version="4.0.1"', 'name="FHIR" version="4.0.0"', 1)
    first = relabelled.index("   <typeInfo")
    (models / "fhir-modelinfo-4.0.0.xml").write_text(
        relabelled[:first] + extra + relabelled[first:], encoding="utf-8"
    )
    return models


@pytest.fixture(scope="module")
def reference_errors(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, tuple[str, ...]], list[str]]:
    """(library, options) → the reference translator's errors, for the default options and
    every option set of the table."""
    if FOLDER is None:
        pytest.skip(SKIP_REASON)
    node = node_or_skip()
    models = _model_dir(tmp_path_factory.mktemp("survey-models"))
    files = [str(FOLDER / f"{stem}.cql") for stem in LIBRARIES]
    out: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for options in sorted({(), *LIST_OPTIONS.values()}):
        flags = [FLAGS[o] for o in options]
        proc = subprocess.run(
            [node, str(HERE / "translate.mjs"), *flags, str(models), str(FOLDER), *files],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                out[Path(row["file"]).stem, options] = row["errors"]
    return out


def _our_load(stem: str, options: tuple[str, ...]) -> str | None:
    """None when the library loads (parse, compile, type check), else the first error."""
    assert FOLDER is not None
    try:
        load_library(FOLDER / f"{stem}.cql", library_dirs=[FOLDER], **{name: True for name in options})
    except CqlError as exc:
        return str(exc).splitlines()[-1]
    return None


@pytest.mark.skipif(FOLDER is None, reason=SKIP_REASON)
@pytest.mark.parametrize("stem", LIBRARIES or ["none"])
def test_load_equals_the_reference_translator(
    stem: str, reference_errors: dict[tuple[str, tuple[str, ...]], list[str]]
) -> None:
    needed = LIST_OPTIONS.get(stem, ())
    for options in dict.fromkeys([(), needed]):
        theirs = reference_errors[stem, options]
        ours = _our_load(stem, options)
        assert (ours is None) == (not theirs), (
            f"options {options or 'default'}: ours {ours or 'loads'}; "
            f"the reference translator {theirs[:2] or 'translates it'}"
        )
    assert not reference_errors[stem, needed], (
        f"the table's options do not suffice: {reference_errors[stem, needed][:2]}"
    )


@pytest.fixture(scope="module")
def elm_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Our ELM of every library (with its options) run in cql-execution: library file stem →
    (the run's row, the parameters given)."""
    if FOLDER is None:
        pytest.skip(SKIP_REASON)
    node = node_or_skip()
    work = tmp_path_factory.mktemp("survey-elm")
    elm_dir = work / "elm"
    elm_dir.mkdir()
    resources = _resources()
    parameters: dict[str, dict[str, Any]] = {}
    ids: dict[str, str] = {}
    for stem in LIBRARIES:
        elm = library_elm(FOLDER / f"{stem}.cql", library_dirs=[FOLDER], **_options(stem))
        library = elm["library"]
        (elm_dir / f"{stem}.json").write_text(json.dumps(elm), encoding="utf-8")
        ids[stem] = library["identifier"]["id"]
        parameters[library["identifier"]["id"]] = _resource_parameters(library, resources)
    (work / "record.json").write_text(json.dumps(resources), encoding="utf-8")
    (work / "parameters.json").write_text(json.dumps(parameters), encoding="utf-8")
    proc = subprocess.run(
        [
            node,
            str(HERE / "run_survey_elm.mjs"),
            str(elm_dir),
            str(work / "record.json"),
            str(work / "parameters.json"),
            NOW.isoformat(timespec="milliseconds"),
            *ids.values(),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            rows[row["library"]] = row
    return {stem: (rows[ids[stem]], parameters[ids[stem]]) for stem in LIBRARIES}


def _resource_parameters(library: dict[str, Any], resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Each parameter without a default → the record's first resource of its type when it is
    typed as a FHIR resource, else null."""
    out = {}
    for p in library.get("parameters", {}).get("def", []):
        if "default" in p:
            continue
        spec = p.get("parameterTypeSpecifier", {})
        name = spec.get("name", "") if spec.get("type") == "NamedTypeSpecifier" else ""
        kind = name.split("}", 1)[1] if name.startswith("{http://hl7.org/fhir}") else None
        out[p["name"]] = next((r for r in resources if kind and r.get("resourceType") == kind), None)
    return out


@pytest.mark.skipif(FOLDER is None, reason=SKIP_REASON)
@pytest.mark.parametrize("stem", LIBRARIES or ["none"])
def test_our_elm_in_cql_execution_equals_our_engine(
    stem: str, elm_runs: dict[str, tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    assert FOLDER is not None
    row, parameters = elm_runs[stem]
    library = load_library(
        FOLDER / f"{stem}.cql", library_dirs=[FOLDER], terminology=EmptyTerminology(), **_options(stem)
    )
    assert "error" not in row, f"cql-execution: {row.get('error')}"
    result = library.evaluate(_resources(), parameters=parameters, now=NOW)
    assert set(row["values"]) == set(result.values), "the ELM and the engine have different defines"
    mismatches = []
    for define, theirs in row["values"].items():
        ours = _normalise(to_json(result[define]))
        if not _same(ours, _normalise(theirs)):
            mismatches.append(f"{define!r}: engine {ours!r} != our ELM {_normalise(theirs)!r}")
    assert not mismatches, "\n".join(mismatches[:20])
