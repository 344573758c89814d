"""The JSON form of CQL values printed by ``dli-cds cql run``."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cds.cql.errors import CqlRuntimeError
from cds.cql.result_json import dumps, to_json
from cds.cql.runtime.clinical import Code, Concept, ValueSetRef
from cds.cql.runtime.fhir import FhirNode
from cds.cql.runtime.values import Long, Tuple


def test_simple_values() -> None:
    assert to_json(None) is None and to_json(True) is True and to_json(Long(5)) == 5
    assert type(to_json(Long(5))) is int and to_json("a") == "a"
    assert dumps([Decimal("90.0"), Decimal("1E+2"), 3], indent=None) == "[90.0, 100, 3]"


def test_clinical_values() -> None:
    assert to_json(Code("1", "s")) == {"system": "s", "code": "1"}
    assert to_json(Code("1", "s", "v", "d")) == {"system": "s", "code": "1", "display": "d"}
    assert to_json(Concept((Code("1", "s"),), "t")) == {
        "codes": [{"system": "s", "code": "1"}],
        "display": "t",
    }
    assert to_json(ValueSetRef("http://x", "2")) == "http://x|2"


def test_tuples_lists_and_resources() -> None:
    obs = FhirNode.of_resource({"resourceType": "Observation", "id": "o1", "code": {"text": "x"}})
    value = Tuple(label="I", evidence=[obs], code=obs.get("code"))
    assert to_json(value) == {
        "label": "I",
        "evidence": ["Observation/o1"],
        "code": {"codes": [], "display": "x"},
    }
    assert json.loads(dumps(value)) == to_json(value)
    assert to_json(FhirNode("Reference", {"reference": "Patient/p"})) == {"reference": "Patient/p"}


def test_quantity_and_interval() -> None:
    from cds.cql.runtime.interval import Interval
    from cds.cql.runtime.quantity import Quantity

    q = Quantity(Decimal("5.5"), "mg")
    assert to_json(q) == {"value": Decimal("5.5"), "unit": "mg"}
    assert to_json(Interval(1, None, True, False)) == {
        "low": 1,
        "high": None,
        "lowClosed": True,
        "highClosed": False,
    }


def test_temporal_text_at_precision() -> None:
    from cds.cql.runtime.fhir import primitive_to_system

    assert to_json(primitive_to_system("date", "2024-02")) == "2024-02"
    assert (
        to_json(primitive_to_system("dateTime", "2024-02-10T08:30:00.000Z"))
        == "2024-02-10T08:30:00.000+00:00"
    )


def test_unknown_value_is_refused() -> None:
    with pytest.raises(CqlRuntimeError, match="no JSON form"):
        to_json(object())
    with pytest.raises(CqlRuntimeError, match="no JSON form"):
        dumps(Decimal("NaN"))
