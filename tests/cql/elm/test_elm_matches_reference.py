"""Our ELM against the reference translator's (``@cqframework/cql``, the oracle's install) for
the policy library and the oracle's generated FHIRHelpers: the library objects must be equal
once the reference's annotations, ``localId``/``locator``, signatures and empty arrays are
removed and chains of ``union`` are flattened (the reference nests them as a balanced tree,
we as written; ``union`` is associative). Statements are compared by name and operands, not
by order."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cds.cql.api import library_elm
from tests.oracle.generate_fhirhelpers import generate

from .test_elm_differential import LIBRARY, SPEC_DIR, node_or_skip

HERE = Path(__file__).resolve().parent
# Query forms the policy does not use: relationships, lets, sorts, multiple sources, aggregates.
QUERIES = """library Queries version '1'
using FHIR version '4.0.1'
include FHIRHelpers version '4.0.1'
codesystem "LOINC": 'http://loinc.org'
code "C1": '1' from "LOINC"
context Patient
define "With": [Condition] C with [Encounter] E such that E.period includes C.onset as FHIR.dateTime
define "Without": [Condition] C without [Observation] O such that O.status = 'final' return C.id
define "Let": [Condition] C let x: C.code, y: 1 where y = 1 return x
define "Sort": [Observation] O sort by issued desc
define "Sort Rows": ({3, 1, 2}) N sort desc
define "Sources": from ({1, 2}) A, ({'a'}) B where A > 1
define "Aggregate": ({1, 2, 3}) N aggregate R starting 0: R + N
define "Retrieve Code": [Observation: "C1"]
define "Code List": { Code '1' from "LOINC", "C1" }
"""
DROPPED = frozenset(
    {"annotation", "localId", "locator", "signature", "resultTypeName", "resultTypeSpecifier"}
)
EMPTY_DROPPED = frozenset(
    {"include", "codeFilter", "dateFilter", "otherFilter", "let", "relationship", "codeSystem"}
)


def normalise(x: Any) -> Any:
    if isinstance(x, dict):
        if x.get("type") == "Union":
            return {"type": "Union*", "operands": sorted_union(x)}
        return {
            k: normalise(v) for k, v in x.items() if k not in DROPPED and not (v == [] and k in EMPTY_DROPPED)
        }
    if isinstance(x, list):
        return [normalise(v) for v in x]
    return x


def sorted_union(x: Any) -> list[Any]:
    out: list[Any] = []
    for operand in x["operand"]:
        if operand.get("type") == "Union":
            out.extend(sorted_union(operand))
        else:
            out.append(normalise(operand))
    return out


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if type(a) is not type(b):
        return f"{path}: {json.dumps(a)[:300]} != {json.dumps(b)[:300]}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return first_difference(a.get(k), b.get(k), f"{path}.{k}")
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return None if a == b else f"{path}: {a!r} != {b!r}"


@pytest.fixture(scope="module")
def reference_elm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    node = node_or_skip()
    if not (SPEC_DIR / "fhir-modelinfo-4.0.1.xml").is_file():
        pytest.skip(f"FHIR model info not found in {SPEC_DIR} (set CQL_SPEC_DIR)")
    libraries = tmp_path_factory.mktemp("reference-elm")
    helpers = libraries / "FHIRHelpers-4.0.1.cql"
    helpers.write_text(generate(SPEC_DIR / "fhir-modelinfo-4.0.1.xml"))
    queries = libraries / "Queries.cql"
    queries.write_text(QUERIES)
    proc = subprocess.run(
        [
            node,
            str(HERE / "translate.mjs"),
            str(SPEC_DIR),
            str(libraries),
            str(LIBRARY),
            str(helpers),
            str(queries),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert all(not row["errors"] for row in rows), rows
    return {
        "policy": rows[0]["elm"],
        "helpers": rows[1]["elm"],
        "queries": rows[2]["elm"],
        "paths": {"policy": LIBRARY, "helpers": helpers, "queries": queries},
    }


@pytest.mark.parametrize("which", ["policy", "helpers", "queries"])
def test_our_elm_equals_the_reference_translators(which: str, reference_elm: dict[str, Any]) -> None:
    source = reference_elm["paths"][which]
    ours = normalise(library_elm(source))["library"]
    theirs = normalise(reference_elm[which])["library"]
    for key in sorted(set(ours) | set(theirs)):
        if key != "statements":
            assert ours.get(key) == theirs.get(key), first_difference(ours.get(key), theirs.get(key), key)

    def key_of(d: dict[str, Any]) -> str:
        return d["name"] + json.dumps(d.get("operand", []))

    our_defs = {key_of(d): d for d in ours["statements"]["def"]}
    their_defs = {key_of(d): d for d in theirs["statements"]["def"]}
    # Statement order differs (the reference writes a definition when its translation completes,
    # so a forward reference comes first; we keep the source order): compared as sets.
    assert sorted(our_defs) == sorted(their_defs)
    differences = [
        f"{name}{first_difference(our_defs[name], their_defs[name])}"
        for name in their_defs
        if our_defs[name] != their_defs[name]
    ]
    assert not differences, "\n".join(differences[:10])
