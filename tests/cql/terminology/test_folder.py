"""FolderTerminology: expansion, compose (concepts, whole code systems, nested value sets,
exclude), membership rules and fail-closed loading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cds.cql.operators import clinical as ops
from cds.cql.runtime.clinical import Code, CodeSystemRef, Concept, ValueSetRef
from cds.cql.terminology.folder import FolderTerminology
from cds.cql.terminology.provider import TerminologyError, TerminologyProvider

SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def vs(url: str, **body: Any) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "url": url, **body}


RESOURCES: list[dict[str, Any]] = [
    vs("http://x/expanded", expansion={"contains": [
        {"system": SCT, "code": "1", "contains": [{"system": SCT, "code": "2"}]},
        {"system": SCT, "code": "group", "abstract": True},
    ]}),
    vs("http://x/composed", version="2", compose={"include": [
        {"system": ICD, "concept": [{"code": "D89.810"}, {"code": "D89.812"}]},
        {"valueSet": ["http://x/expanded"]},
    ], "exclude": [{"system": ICD, "concept": [{"code": "D89.812"}]}]}),
    vs("http://x/whole-system", compose={"include": [{"system": "http://x/cs"}]}),
    vs("http://x/intersection", compose={"include": [{"system": "http://x/cs", "valueSet": ["http://x/composed"]}]}),
    {"resourceType": "CodeSystem", "url": "http://x/cs", "content": "complete",
     "concept": [{"code": "a", "concept": [{"code": "a1"}]}, {"code": "D89.810"}]},
]  # fmt: skip


@pytest.fixture(scope="module")
def terminology() -> FolderTerminology:
    return FolderTerminology(RESOURCES)


def test_is_a_provider(terminology: FolderTerminology) -> None:
    assert isinstance(terminology, TerminologyProvider)
    assert terminology.has_valueset("http://x/composed") and terminology.has_valueset(
        "http://x/composed", "2"
    )
    assert not terminology.has_valueset("http://x/composed", "3")


def test_expansion_contains_is_flattened(terminology: FolderTerminology) -> None:
    codes = terminology.expand(ValueSetRef("http://x/expanded"))
    assert [c.code for c in codes] == ["1", "2"]


def test_compose_with_nested_and_exclude(terminology: FolderTerminology) -> None:
    ref = ValueSetRef("http://x/composed")
    assert {(c.system, c.code) for c in terminology.expand(ref)} == {(ICD, "D89.810"), (SCT, "1"), (SCT, "2")}
    assert terminology.in_valueset(Code("D89.810", ICD), ref)
    assert not terminology.in_valueset(Code("D89.812", ICD), ref)
    assert not terminology.in_valueset(Code("D89.810", SCT), ref)


def test_whole_code_system_and_intersection(terminology: FolderTerminology) -> None:
    whole = {c.code for c in terminology.expand(ValueSetRef("http://x/whole-system"))}
    assert whole == {"a", "a1", "D89.810"}
    assert {c.code for c in terminology.expand(ValueSetRef("http://x/intersection"))} == set()


def test_membership_rules(terminology: FolderTerminology) -> None:
    ref = ValueSetRef("http://x/composed")
    assert terminology.in_valueset("D89.810", ref)  # a String matches on the code
    assert terminology.in_valueset(Concept((Code("zz", SCT), Code("2", SCT))), ref)
    assert not terminology.in_valueset(None, ref)
    restricted = ValueSetRef("http://x/composed", None, (CodeSystemRef(SCT),))
    assert not terminology.in_valueset(Code("D89.810", ICD), restricted)
    assert terminology.in_codesystem(Code("a1", "http://x/cs"), CodeSystemRef("http://x/cs"))
    assert not terminology.in_codesystem(Code("a1", SCT), CodeSystemRef("http://x/cs"))


def test_operators(terminology: FolderTerminology) -> None:
    ref = ValueSetRef("http://x/composed")
    assert ops.in_valueset(Code("1", SCT), ref, terminology=terminology) is True
    assert ops.in_valueset(None, ref, terminology=terminology) is False
    assert ops.any_in_valueset([Code("x", SCT), Code("2", SCT)], ref, terminology=terminology) is True
    assert ops.any_in_valueset([], ref, terminology=terminology) is False
    assert len(ops.expand_valueset(ref, terminology=terminology) or []) == 3
    assert ops.in_codesystem("a", CodeSystemRef("http://x/cs"), terminology=terminology) is True


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        (
            [vs("http://x/a", compose={"include": [{"valueSet": ["http://x/missing"]}]})],
            "not in the terminology",
        ),
        ([vs("http://x/a", compose={"include": [{"system": SCT, "filter": [{"op": "is-a"}]}]})], "filters"),
        ([vs("http://x/a", compose={"include": [{"system": SCT}]})], "code system"),
        ([vs("http://x/a", compose={"include": [{"valueSet": ["http://x/a"]}]})], "includes itself"),
        ([vs("http://x/a")], "neither an expansion nor a compose"),
        ([{"resourceType": "ValueSet", "id": "nourl"}], "has no url"),
    ],
)
def test_fail_closed(resources: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(TerminologyError, match=message):
        FolderTerminology(resources)


def test_unknown_valueset_at_use(terminology: FolderTerminology) -> None:
    with pytest.raises(TerminologyError, match="not in the terminology folder"):
        terminology.in_valueset("x", ValueSetRef("http://x/nope"))


def test_folder_of_json_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(
        json.dumps({"resourceType": "Bundle", "entry": [{"resource": RESOURCES[0]}]})
    )
    (tmp_path / "notes.txt").write_text("ignored")
    t = FolderTerminology(tmp_path)
    assert t.valueset_urls() == ["http://x/expanded"]
    (tmp_path / "b.json").write_text("{not json")
    with pytest.raises(TerminologyError, match="b.json"):
        FolderTerminology(tmp_path)
    with pytest.raises(TerminologyError, match="does not exist"):
        FolderTerminology(tmp_path / "none")


def test_project_valuesets_load() -> None:
    root = Path(__file__).resolve().parents[3] / "cql" / "valuesets"
    t = FolderTerminology(root)
    acute = ValueSetRef("https://dli-cds.org/fhir/ValueSet/gvhd-acute")
    assert t.in_valueset(Code("402355000", SCT), acute)
