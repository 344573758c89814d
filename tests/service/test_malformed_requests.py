"""A catalogue of malformed order-sign requests, each with its expected status; every 4xx
answer is an OperationOutcome, never a traceback."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Client

ROOT = Path(__file__).resolve().parents[2]
BASE = json.loads((ROOT / "fhir-examples" / "01-meets-aml-relapse-prevention" / "request.json").read_text())
URL = "/cds-services/dli-order-sign"


def _edit(fn: Callable[[dict[str, Any]], None]) -> bytes:
    body = copy.deepcopy(BASE)
    fn(body)
    return json.dumps(body).encode()


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        if value is _DELETE:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return apply


_DELETE = object()
ORDER = "context.draftOrders.entry.0.resource"
CASES: list[tuple[str, bytes, int]] = [
    ("empty body", b"", 400),
    ("not json", b"{hook: order-sign", 400),
    ("truncated json", b'{"hook": "order-sign", "context": {', 400),
    ("json array", b"[]", 400),
    ("json string", b'"order-sign"', 400),
    ("json null", b"null", 400),
    ("invalid utf-8", b'{"hook": "\xff\xfe"}', 400),
    ("wrong hook", _edit(_set("hook", "order-select")), 400),
    ("hook not a string", _edit(_set("hook", 7)), 400),
    ("missing hook", _edit(_set("hook", _DELETE)), 400),
    ("missing hookInstance", _edit(_set("hookInstance", _DELETE)), 400),
    ("empty hookInstance", _edit(_set("hookInstance", "")), 400),
    ("hookInstance an object", _edit(_set("hookInstance", {"id": 1})), 400),
    ("missing context", _edit(_set("context", _DELETE)), 400),
    ("context a list", _edit(_set("context", [])), 400),
    ("missing userId", _edit(_set("context.userId", _DELETE)), 400),
    ("userId without type", _edit(_set("context.userId", "dr-hem")), 400),
    ("userId a number", _edit(_set("context.userId", 12)), 400),
    ("missing patientId", _edit(_set("context.patientId", _DELETE)), 400),
    ("blank patientId", _edit(_set("context.patientId", "  ")), 400),
    ("patientId a list", _edit(_set("context.patientId", ["p"])), 400),
    ("missing draftOrders", _edit(_set("context.draftOrders", _DELETE)), 400),
    ("draftOrders a list", _edit(_set("context.draftOrders", [])), 400),
    ("draftOrders not a Bundle", _edit(_set("context.draftOrders.resourceType", "Parameters")), 400),
    ("draftOrders entry not a list", _edit(_set("context.draftOrders.entry", {})), 400),
    ("entry without resource", _edit(_set("context.draftOrders.entry.0", {"fullUrl": "x"})), 400),
    ("resource without resourceType", _edit(_set(f"{ORDER}.resourceType", _DELETE)), 400),
    ("order of the wrong resource type", _edit(_set(f"{ORDER}.resourceType", "Patient")), 400),
    ("order an Observation", _edit(_set(f"{ORDER}.resourceType", "Observation")), 400),
    ("order status not a code", _edit(_set(f"{ORDER}.status", 42)), 400),
    ("order intent not a code", _edit(_set(f"{ORDER}.intent", ["order"])), 400),
    ("order subject not a reference", _edit(_set(f"{ORDER}.subject", "Patient/pat-01")), 400),
    ("order authoredOn not a dateTime", _edit(_set(f"{ORDER}.authoredOn", "yesterday")), 400),
    ("order code not a CodeableConcept", _edit(_set(f"{ORDER}.code", "38242")), 400),
    ("fhirAuthorization without fhirServer", _edit(_set("fhirServer", _DELETE)), 400),
    ("fhirServer not a URL", _edit(_set("fhirServer", "ehr.example.org/fhir")), 400),
    ("fhirServer not http(s)", _edit(_set("fhirServer", "file:///etc/passwd")), 400),
    ("fhirAuthorization a string", _edit(_set("fhirAuthorization", "token")), 400),
    ("prefetch a list", _edit(_set("prefetch", [])), 400),
    ("extension a list", _edit(_set("extension", [])), 400),
    ("prefetch value a list", _edit(_set("prefetch.conditions", [])), 400),
    ("prefetch value a string", _edit(_set("prefetch.patient", "Patient/pat-01")), 400),
    ("prefetch value without resourceType", _edit(_set("prefetch.coverage", {"id": "cov"})), 400),
    (
        "missing data and no fhirServer",
        _edit(lambda b: (b.pop("prefetch"), b.pop("fhirServer"), b.pop("fhirAuthorization"))),
        412,
    ),
    (
        "prefetch failed and no fhirServer",
        _edit(
            lambda b: (
                b["prefetch"].__setitem__("conditions", {"resourceType": "OperationOutcome", "issue": []}),
                b.pop("fhirServer"),
                b.pop("fhirAuthorization"),
            )
        ),
        412,
    ),
    ("deep nesting", b'{"hook": "order-sign", "x": ' + b"[" * 200 + b"]" * 200 + b"}", 400),
    (
        "too many draft orders",
        _edit(
            lambda b: b["context"]["draftOrders"].__setitem__(
                "entry", b["context"]["draftOrders"]["entry"] * 60
            )
        ),
        400,
    ),
    ("oversized body", b'{"hook": "order-sign", "pad": "' + b"x" * (6 * 1024 * 1024) + b'"}', 413),
]


@pytest.mark.parametrize(("name", "body", "status"), CASES, ids=[c[0] for c in CASES])
def test_malformed_request(client: Client, name: str, body: bytes, status: int) -> None:
    response = client.post(URL, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["diagnostics"]
    assert "Traceback" not in response.text


def test_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 40


def test_unknown_fields_and_extensions_are_ignored(client: Client) -> None:
    body = copy.deepcopy(BASE)
    body["unknownField"] = {"a": 1}
    body["context"]["someNewContext"] = "x"
    body["extension"] = {"com.example.thing": True, "davinci-crd.configuration": {"alt-drug": True}}
    response = client.post(URL, json=body)
    assert response.status_code == 200
    assert response.json()["cards"][0]["summary"].startswith("CP.MP.101 criteria met")


# ---------------------------------------------------------------------- PAS Claim/$submit, $inquire
PAS_BASE = json.loads(
    (ROOT / "fhir-examples" / "pas" / "01-approved-relapse-prevention" / "bundle.json").read_text()
)
PAS_CLAIM = "entry.0.resource"


def _pas(fn: Callable[[dict[str, Any]], None]) -> bytes:
    body = copy.deepcopy(PAS_BASE)
    fn(body)
    return json.dumps(body).encode()


PAS_CASES: list[tuple[str, bytes, int]] = [
    ("empty body", b"", 400),
    ("not json", b"{resourceType: Bundle", 400),
    ("json array", b"[]", 400),
    ("not a bundle", _pas(_set("resourceType", "Claim")), 400),
    ("parameters without resource", b'{"resourceType": "Parameters", "parameter": []}', 400),
    ("batch bundle", _pas(_set("type", "batch")), 422),
    ("no bundle identifier", _pas(_set("identifier", _DELETE)), 422),
    ("no timestamp", _pas(_set("timestamp", _DELETE)), 422),
    ("entry a string", _pas(_set("entry.1", "Patient/pat-01")), 400),
    ("entry without fullUrl", _pas(_set("entry.1.fullUrl", _DELETE)), 422),
    ("claim not first", _pas(lambda b: b["entry"].reverse()), 422),
    ("claim use claim", _pas(_set(f"{PAS_CLAIM}.use", "claim")), 422),
    ("claim use a number", _pas(_set(f"{PAS_CLAIM}.use", 3)), 400),
    ("claim items a string", _pas(_set(f"{PAS_CLAIM}.item", "38242")), 400),
    ("claim without patient", _pas(_set(f"{PAS_CLAIM}.patient", _DELETE)), 400),
    ("patient not in bundle", _pas(_set(f"{PAS_CLAIM}.patient.reference", "Patient/nobody")), 422),
    ("provider a practitioner", _pas(_set(f"{PAS_CLAIM}.provider.reference", "Practitioner/dr-hem")), 422),
    (
        "requested service missing",
        _pas(_set(f"{PAS_CLAIM}.item.0.extension.2.valueReference.reference", "ServiceRequest/x")),
        422,
    ),
    ("order not valid FHIR", _pas(_set("entry.1.resource.status", 12)), 400),
    ("deep nesting", b'{"resourceType": "Bundle", "x": ' + b"[" * 200 + b"]" * 200 + b"}", 400),
    ("oversized body", b'{"resourceType": "Bundle", "pad": "' + b"x" * (6 * 1024 * 1024) + b'"}', 413),
]


@pytest.mark.parametrize("operation", ["$submit", "$inquire"])
@pytest.mark.parametrize(("name", "body", "status"), PAS_CASES, ids=[c[0] for c in PAS_CASES])
def test_malformed_pas_request(client: Client, operation: str, name: str, body: bytes, status: int) -> None:
    response = client.post(
        f"/fhir/Claim/{operation}", content=body, headers={"Content-Type": "application/fhir+json"}
    )
    if operation == "$inquire" and name == "order not valid FHIR":
        status = 200  # an inquiry is an example to match: its orders are not evaluated
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert "Traceback" not in response.text
    if status != 200:
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["diagnostics"]


# ---------------------------------------------------------------------- DTR $questionnaire-package, $expand
DTR_ORDER = json.loads((ROOT / "fhir-examples" / "07-transplant-status-only" / "request.json").read_text())[
    "context"
]["draftOrders"]["entry"][0]["resource"]
DTR_BASE = {
    "resourceType": "Parameters",
    "parameter": [
        {
            "name": "coverage",
            "resource": {
                "resourceType": "Coverage",
                "id": "c1",
                "beneficiary": {"reference": "Patient/pat-07"},
            },
        },
        {"name": "order", "resource": DTR_ORDER},
    ],
}


def _dtr(fn: Callable[[dict[str, Any]], None]) -> bytes:
    body = copy.deepcopy(DTR_BASE)
    fn(body)
    return json.dumps(body).encode()


DTR_CASES: list[tuple[str, bytes, int]] = [
    ("empty body", b"", 400),
    ("not json", b"{resourceType: Parameters", 400),
    ("json array", b"[]", 400),
    ("not parameters", _dtr(_set("resourceType", "Bundle")), 400),
    ("parameter a string", _dtr(_set("parameter", "coverage")), 400),
    ("parameter without name", _dtr(_set("parameter.0.name", _DELETE)), 400),
    ("unknown parameter", _dtr(_set("parameter.0.name", "patient")), 400),
    ("no coverage", _dtr(lambda b: b["parameter"].pop(0)), 400),
    ("coverage a patient", _dtr(_set("parameter.0.resource.resourceType", "Patient")), 400),
    ("coverage without id", _dtr(_set("parameter.0.resource.id", _DELETE)), 400),
    ("order a string", _dtr(_set("parameter.1.resource", "ServiceRequest/dli-1")), 400),
    ("order not valid FHIR", _dtr(_set("parameter.1.resource.status", 12)), 400),
    ("only coverage", _dtr(lambda b: b["parameter"].pop(1)), 400),
    (
        "questionnaire not a canonical",
        _dtr(_set("parameter.1", {"name": "questionnaire", "valueCanonical": 3})),
        400,
    ),
    (
        "changedsince not an instant",
        _dtr(lambda b: b["parameter"].append({"name": "changedsince", "valueInstant": "x"})),
        400,
    ),
    ("deep nesting", b'{"resourceType": "Parameters", "x": ' + b"[" * 200 + b"]" * 200 + b"}", 400),
    ("oversized body", b'{"resourceType": "Parameters", "pad": "' + b"x" * (6 * 1024 * 1024) + b'"}', 413),
]


@pytest.mark.parametrize("path", ["/fhir/Questionnaire/$questionnaire-package", "/fhir/ValueSet/$expand"])
@pytest.mark.parametrize(("name", "body", "status"), DTR_CASES, ids=[c[0] for c in DTR_CASES])
def test_malformed_dtr_request(client: Client, path: str, name: str, body: bytes, status: int) -> None:
    response = client.post(path, content=body, headers={"Content-Type": "application/fhir+json"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert "Traceback" not in response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["diagnostics"]
