"""Card evidence: the FHIRPath alternatives skip what the resource's JSON cannot answer, and
skipping never changes what the card shows (checked against calling FHIRPath for every
alternative, on every resource of every example and on variants with parts removed)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cds import cards
from cds.fhirpath import compiled

EXAMPLES = Path(__file__).resolve().parents[2] / "fhir-examples"


def _resources() -> Iterator[dict[str, Any]]:
    for request in sorted(EXAMPLES.glob("*/request.json")):
        for value in (json.loads(request.read_text()).get("prefetch") or {}).values():
            if isinstance(value, dict) and value.get("resourceType") == "Bundle":
                yield from (e["resource"] for e in value.get("entry", []) if "resource" in e)
            elif isinstance(value, dict):
                yield value


def _variants(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The resource, and copies with one element, or one element's sub-element, removed."""
    yield resource
    for key, value in resource.items():
        if key in ("resourceType", "id"):
            continue
        without = {k: v for k, v in resource.items() if k != key}
        yield without
        items = value if isinstance(value, list) else [value]
        for sub in {k for item in items if isinstance(item, dict) for k in item}:
            changed = copy.deepcopy(resource)
            for item in changed[key] if isinstance(changed[key], list) else [changed[key]]:
                if isinstance(item, dict):
                    item.pop(sub, None)
            yield changed


def _unskipped(alternatives: cards._Alternatives, resource: dict[str, Any], limit: int) -> list[Any]:
    out: list[Any] = []
    for _needed, alternative in alternatives.paths:
        for value in cards._evaluate(alternative, resource):
            if value not in out:
                out.append(value)
                if len(out) == limit:
                    return out
    return out


CASES = [v for r in _resources() for v in _variants(r)]


def test_there_are_cases() -> None:
    assert len(CASES) > 500


@pytest.mark.parametrize(
    "group, limit",
    [(cards._WHAT_OF, 1), (cards._VALUES_OF, 2), (cards._STATUS_OF, 1), (cards._DATE_OF, 1)],
    ids=["what", "values", "status", "date"],
)
def test_skipping_changes_nothing(group: cards._Alternatives, limit: int) -> None:
    for resource in CASES:
        assert group.values(resource, limit) == _unskipped(group, resource, limit), resource


def test_quantity_is_value_to_string_and_unit() -> None:
    """One FHIRPath call for a Quantity shows what FHIRPath's ``value.toString() + ' ' + unit``
    gives (two calls), on every resource of the examples, their variants and odd values."""
    value, unit = compiled("valueQuantity.value.toString()"), compiled("valueQuantity.unit")
    quantity = (compiled("valueQuantity"), True)
    odd = [72, 72.0, 72.5, 1e-7, 10**20, 0.1, -3, 12.345678901234567, "72"]
    resources = CASES + [
        {"resourceType": "Observation", "valueQuantity": {"value": v, "unit": "%"}} for v in odd
    ]
    checked = 0
    for resource in resources:
        parts = [value.first(resource), unit.first(resource)]
        expected = [" ".join(str(p) for p in parts)] if all(p is not None for p in parts) else []
        assert cards._evaluate(quantity, resource) == expected, resource
        checked += bool(expected)
    assert checked > 50


def test_needed_keys() -> None:
    assert cards._needed_keys("code.coding.display") == (
        "code",
        False,
        ("coding", "display"),
    )  # code[x] exists
    assert cards._needed_keys("medication.text") == ("medication", False, ("text",))
    assert cards._needed_keys("valueQuantity.value.toString()") == ("valueQuantity", True, ("value",))
    assert cards._needed_keys("value.ofType(Quantity).value.toString()") == (
        "valueQuantity",
        True,
        ("value",),
    )
    assert cards._needed_keys("effective.ofType(Period).start") == ("effectivePeriod", True, ("start",))
    assert cards._needed_keys("issued") == ("issued", True, ())
