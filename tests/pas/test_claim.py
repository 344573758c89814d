"""Reading and validating a PAS request Bundle: what it yields, and each broken rule as the typed
error naming its element (a table of mutations of one valid Bundle)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cds.errors import InvalidRequest, ServiceError, UnsupportedRequest
from cds.pas.claim import read_inquiry, read_submission

from .bundles import pas_bundle

ROOT = Path(__file__).resolve().parents[2]
REQUEST = json.loads((ROOT / "fhir-examples/33-questionnaire-closes-hsct-loop/request.json").read_text())
MIXED = json.loads((ROOT / "fhir-examples/40-mixed-orders-and-aliases/request.json").read_text())


def bundle() -> dict[str, Any]:
    return pas_bundle(REQUEST, "claim-1", "2026-11-24T10:00:00Z")


def claim_of(b: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = b["entry"][0]["resource"]
    return resource


def test_reads_what_the_service_needs() -> None:
    claim = read_submission(bundle())
    assert claim.key == "urn:trnorg:1316923541|claim-1"
    assert claim.patient.resource["id"] == "pat-07"
    assert claim.provider.type == "PractitionerRole"
    assert claim.insurer.resource["id"] == "plan"
    assert claim.coverage is not None and claim.coverage.type == "Coverage"
    assert [i.sequence for i in claim.items] == [1]
    assert claim.items[0].order is not None and claim.items[0].order["id"] == "dli-1"
    assert [a["resourceType"] for a in claim.answers] == ["QuestionnaireResponse"]
    assert all(r["resourceType"] not in ("Claim", "QuestionnaireResponse") for r in claim.record)
    assert claim.member_id == "MBR-pat-07"
    assert claim.provider_npis == ("1234567893", "1316923541")


def test_parameters_wrapper_is_accepted() -> None:
    wrapped = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": bundle()}]}
    assert read_submission(wrapped).key.endswith("|claim-1")


def test_every_order_type_is_an_item() -> None:
    claim = read_submission(pas_bundle(MIXED, "claim-2", "2026-11-24T10:00:00Z"))
    assert [i.order["resourceType"] for i in claim.items if i.order] == [
        "ServiceRequest",
        "MedicationRequest",
        "ServiceRequest",
    ]


def test_urn_uuid_full_urls_resolve() -> None:
    b = bundle()
    urls = {e["fullUrl"]: f"urn:uuid:00000000-0000-4000-8000-{n:012d}" for n, e in enumerate(b["entry"])}
    text = json.dumps(b)
    for old, new in urls.items():  # fullUrls and the references that name them
        kind, rid = old.rsplit("/", 2)[-2:]
        text = text.replace(f'"{old}"', f'"{new}"').replace(
            f'"reference": "{kind}/{rid}"', f'"reference": "{new}"'
        )
    claim = read_submission(json.loads(text))
    assert claim.patient.resource["id"] == "pat-07"
    assert claim.items[0].order is not None and claim.items[0].order["id"] == "dli-1"


def test_coverage_assertion_id_is_read_from_the_order() -> None:
    b = bundle()
    order = next(e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "ServiceRequest")
    order["extension"] = [
        {
            "url": "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information",
            "extension": [{"url": "coverage-assertion-id", "valueString": "crd-assertion-7"}],
        }
    ]
    assert read_submission(b).items[0].coverage_assertion_id == "crd-assertion-7"


def _set(
    path: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any
) -> Callable[[dict[str, Any]], None]:
    def mutate(b: dict[str, Any]) -> None:
        target = path(b)
        if value is _DELETE:
            target.pop(key, None)
        else:
            target[key] = value

    return mutate


_DELETE = object()


def _top(b: dict[str, Any]) -> dict[str, Any]:
    return b


def _item(b: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = claim_of(b)["item"][0]
    return item


def _first_entry(b: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = b["entry"][1]
    return entry


def _claim_last(b: dict[str, Any]) -> None:
    b["entry"].append(b["entry"].pop(0))


def _duplicate_url(b: dict[str, Any]) -> None:
    b["entry"][2]["fullUrl"] = b["entry"][1]["fullUrl"]


def _duplicate_info_sequence(b: dict[str, Any]) -> None:
    claim_of(b)["supportingInfo"][1]["sequence"] = claim_of(b)["supportingInfo"][0]["sequence"]


def _provider_practitioner(b: dict[str, Any]) -> None:
    claim_of(b)["provider"] = {"reference": "Practitioner/dr-hem"}


def _drop_requested_service(b: dict[str, Any]) -> None:
    _item(b)["extension"] = [e for e in _item(b)["extension"] if not e["url"].endswith("requestedService")]


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], type[ServiceError], str]] = [
    ("not a bundle", _set(_top, "resourceType", "Claim"), InvalidRequest, "Bundle.resourceType"),
    ("not a collection", _set(_top, "type", "transaction"), UnsupportedRequest, "Bundle.type"),
    ("no identifier", _set(_top, "identifier", _DELETE), UnsupportedRequest, "Bundle.identifier"),
    ("no timestamp", _set(_top, "timestamp", _DELETE), UnsupportedRequest, "Bundle.timestamp"),
    ("no entries", _set(_top, "entry", []), UnsupportedRequest, "Bundle.entry"),
    (
        "entry without resource",
        _set(_first_entry, "resource", _DELETE),
        InvalidRequest,
        "Bundle.entry[1].resource",
    ),
    (
        "entry without fullUrl",
        _set(_first_entry, "fullUrl", _DELETE),
        UnsupportedRequest,
        "Bundle.entry[1].fullUrl",
    ),
    (
        "entry with request",
        _set(_first_entry, "request", {"method": "POST"}),
        UnsupportedRequest,
        "Bundle.entry[1].request",
    ),
    ("fullUrl twice", _duplicate_url, UnsupportedRequest, "Bundle.entry[2].fullUrl"),
    ("claim not first", _claim_last, UnsupportedRequest, "Bundle.entry[0].resource"),
    ("use claim", _set(claim_of, "use", "claim"), UnsupportedRequest, "Bundle.entry[0].resource.use"),
    (
        "status draft",
        _set(claim_of, "status", "draft"),
        UnsupportedRequest,
        "Bundle.entry[0].resource.status",
    ),
    ("invalid FHIR use", _set(claim_of, "use", 7), InvalidRequest, "Bundle.entry[0].resource.use"),
    (
        "no identifier on claim",
        _set(claim_of, "identifier", _DELETE),
        UnsupportedRequest,
        "Bundle.entry[0].resource.identifier",
    ),
    (
        "patient not in bundle",
        _set(claim_of, "patient", {"reference": "Patient/other"}),
        UnsupportedRequest,
        "Bundle.entry[0].resource.patient",
    ),
    (
        "insurer a patient",
        _set(claim_of, "insurer", {"reference": "Patient/pat-07"}),
        UnsupportedRequest,
        "Bundle.entry[0].resource.insurer",
    ),
    (
        "provider a practitioner",
        _provider_practitioner,
        UnsupportedRequest,
        "Bundle.entry[0].resource.provider",
    ),
    (
        "no insurance",
        _set(claim_of, "insurance", []),
        UnsupportedRequest,
        "Bundle.entry[0].resource.insurance",
    ),
    ("no items", _set(claim_of, "item", []), UnsupportedRequest, "Bundle.entry[0].resource.item"),
    (
        "no requested service",
        _drop_requested_service,
        UnsupportedRequest,
        "Bundle.entry[0].resource.item[0].extension('requestedService')",
    ),
    (
        "supportingInfo not a list",
        _set(claim_of, "supportingInfo", "PY"),
        InvalidRequest,
        "Bundle.entry[0].resource.supportingInfo",
    ),
    (
        "supportingInfo sequence zero",
        lambda b: claim_of(b)["supportingInfo"][0].__setitem__("sequence", 0),
        InvalidRequest,
        "Bundle.entry[0].resource.supportingInfo[0].sequence",
    ),
    (
        "supportingInfo without category",
        lambda b: claim_of(b)["supportingInfo"][1].pop("category"),
        InvalidRequest,
        "Bundle.entry[0].resource.supportingInfo[1].category",
    ),
    (
        "supportingInfo sequence twice",
        _duplicate_info_sequence,
        UnsupportedRequest,
        "Bundle.entry[0].resource.supportingInfo[1].sequence",
    ),
]


@pytest.mark.parametrize(("mutate", "error", "where"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_rule_names_its_element(
    mutate: Callable[[dict[str, Any]], None], error: type[ServiceError], where: str
) -> None:
    b = copy.deepcopy(bundle())
    mutate(b)
    with pytest.raises(error) as caught:
        read_submission(b)
    assert type(caught.value) is error
    assert caught.value.where == where


def test_not_json_object() -> None:
    with pytest.raises(InvalidRequest, match="JSON object"):
        read_submission([1, 2])


def test_inquiry_needs_no_requested_service() -> None:
    b = bundle()
    _drop_requested_service(b)
    assert read_inquiry(b).items[0].order is None
