"""Valid FHIR the way EHRs vary it, on every example: decimals written as integers or floats,
dateTimes with seconds, milliseconds and offsets, month-precision dates, extensions on
primitives (``_status``), ``meta``/``text``/extensions on resources, codings without display or
with extra codings, Bundles without ``type`` and with ``fullUrl``/``search``. None of it may
change whether an order gets an answer: every variant is answered 200 with as many cards and
coverage-information actions as the example itself, and obeys the CDS Hooks JSON rule.
Deterministic; ``VALID_VARIANTS`` per example (default 4)."""

from __future__ import annotations

import copy
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from cds.app import create_app
from tests.conftest import NOW, Client, make_settings

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((ROOT / "fhir-examples").glob("*/request.json"))
VARIANTS = int(os.environ.get("VALID_VARIANTS", "4"))
DATES = frozenset(
    {"effectiveDateTime", "onsetDateTime", "recordedDate", "authoredOn", "authored", "performedDateTime"}
)


def _vary_resource(resource: dict[str, Any], rnd: random.Random) -> None:
    if rnd.random() < 0.3:
        resource.setdefault("meta", {"versionId": "3", "lastUpdated": "2026-11-01T10:00:00.123+02:00"})
    if rnd.random() < 0.2:
        div = '<div xmlns="http://www.w3.org/1999/xhtml">generated</div>'
        resource.setdefault("text", {"status": "generated", "div": div})
    if rnd.random() < 0.2 and "status" in resource:
        resource["_status"] = {"extension": [{"url": "http://example.org/source", "valueString": "ehr"}]}
    if rnd.random() < 0.2:
        resource.setdefault("extension", []).append(
            {"url": "http://example.org/note", "valueCodeableConcept": {"text": "note"}}
        )


def _vary_element(element: dict[str, Any], rnd: random.Random) -> None:
    for key, value in list(element.items()):
        if key == "value" and isinstance(value, int | float) and not isinstance(value, bool):
            roll = rnd.random()
            if roll < 0.3:
                element[key] = float(value)
            elif roll < 0.5 and float(value).is_integer():
                element[key] = int(value)
        elif key in DATES and isinstance(value, str) and len(value) >= 10:
            roll = rnd.random()
            if roll < 0.2:
                element[key] = value[:10] + "T08:30:00Z"
            elif roll < 0.35:
                element[key] = value[:10] + "T08:30:00.250-05:00"
            elif roll < 0.45:
                element[key] = value[:7]
        elif key == "coding" and isinstance(value, list):
            for coding in value:
                if isinstance(coding, dict) and rnd.random() < 0.2:
                    coding.pop("display", None)
                if isinstance(coding, dict) and rnd.random() < 0.1:
                    coding["userSelected"] = True
            if rnd.random() < 0.15:
                value.append({"system": "http://snomed.info/sct", "code": "261665006"})


def _walk(value: Any, rnd: random.Random) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _walk(item, rnd)
        _vary_element(value, rnd)
        if isinstance(value.get("resourceType"), str) and value["resourceType"] != "Bundle":
            _vary_resource(value, rnd)
    elif isinstance(value, list):
        for item in value:
            _walk(item, rnd)


def vary(request: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """A copy whose prefetch is varied (the draft orders are left alone)."""
    varied = copy.deepcopy(request)
    prefetch = varied.get("prefetch") or {}
    _walk(prefetch, rnd)
    for value in prefetch.values():
        if isinstance(value, dict) and value.get("resourceType") == "Bundle" and rnd.random() < 0.3:
            value.pop("type", None)
            for n, entry in enumerate(value.get("entry") or []):
                entry.setdefault("fullUrl", f"http://ehr.example.org/fhir/Resource/{n}")
                entry["search"] = {"mode": "match"}
    return varied


def _json_rule(value: Any, top: bool = True) -> None:
    assert value is not None and value != "" and (value != [] or top) and value != {}
    if isinstance(value, dict):
        for key, item in value.items():
            _json_rule(item, top=top and key in ("cards", "systemActions"))
    elif isinstance(value, list):
        for item in value:
            _json_rule(item, top=False)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Client:
    return Client(create_app(make_settings(tmp_path_factory.mktemp("variants")), clock=lambda: NOW))


@pytest.mark.parametrize("case", CASES, ids=[c.parent.name for c in CASES])
def test_valid_variants_are_answered_like_the_example(client: Client, case: Path) -> None:
    request = json.loads(case.read_text())
    expected = json.loads((case.parent / "expected.json").read_text())
    for n in range(VARIANTS):
        varied = vary(request, random.Random(f"{case.parent.name}/{n}"))
        response = client.post("/cds-services/dli-order-sign", json=varied)
        assert response.status_code == 200, (n, response.text)
        body = response.json()
        _json_rule(body)
        assert len(body["cards"]) == len(expected["cards"]), n
        assert len(body.get("systemActions", [])) == len(expected.get("systemActions", [])), n
