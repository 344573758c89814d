"""Code and Concept equality (=) and equivalence (~)."""

from __future__ import annotations

from cds.cql.runtime.clinical import Code, CodeSystemRef, Concept, ValueSetRef


def test_code_equality_uses_every_field() -> None:
    assert Code("1", "s", None, "x").cql_equal(Code("1", "s", None, "x")) is True
    assert Code("1", "s", None, "x").cql_equal(Code("1", "s", None, "y")) is False
    assert Code("1", "s", None, "x").cql_equal(Code("1", "s", None, None)) is None
    assert Code("1", "s").cql_equal(Code("2", "s", None, "x")) is False


def test_code_equivalence_ignores_display_and_version() -> None:
    assert Code("1", "s", "v1", "x").cql_equivalent(Code("1", "s", "v2", "y"))
    assert not Code("1", "s").cql_equivalent(Code("1", "t"))


def test_concept_equivalent_when_any_code_is() -> None:
    a = Concept((Code("1", "s"), Code("2", "t")), "a")
    b = Concept((Code("9", "s"), Code("2", "t")), "b")
    assert a.cql_equivalent(b) and a.cql_equivalent(Code("2", "t"))
    assert a.cql_equal(b) is False
    assert not a.cql_equivalent(Concept((Code("3", "s"),)))


def test_refs() -> None:
    vs = ValueSetRef("http://x/vs", "1", (CodeSystemRef("http://s"),))
    assert vs.canonical == "http://x/vs|1" and vs.cql_equal(
        ValueSetRef("http://x/vs", "1", (CodeSystemRef("http://s"),))
    )
    assert "ValueSet" in vs.cql_to_string() and "Concept" in Concept((Code("1", "s"),)).cql_to_string()
