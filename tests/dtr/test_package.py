"""``$questionnaire-package`` against the DTR 2.1 profiles' rules, its OperationOutcome cases,
the Library and ValueSet reads, ``$expand`` and the CapabilityStatement."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from cds.dtr.prepopulation import initial_define, items
from tests.conftest import Client

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "fhir-examples"
PACKAGE = "/fhir/Questionnaire/$questionnaire-package"
COVERAGE = {
    "resourceType": "Coverage",
    "id": "cov-1",
    "status": "active",
    "beneficiary": {"reference": "Patient/pat-07"},
    "payor": [{"display": "Example Health Plan"}],
}
INITIAL = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-initialExpression"


def _request(case: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / case / "request.json").read_text())
    return data


def _order(case: str) -> dict[str, Any]:
    order: dict[str, Any] = _request(case)["context"]["draftOrders"]["entry"][0]["resource"]
    return order


def _params(*parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Parameters",
        "parameter": [{"name": "coverage", "resource": COVERAGE}, *parameters],
    }


def _out(client: Client, body: Any) -> dict[str, Any]:
    response = client.post(PACKAGE, json=body)
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


@pytest.fixture(scope="module")
def package(client: Client) -> dict[str, Any]:
    out = _out(client, _params({"name": "order", "resource": _order("07-transplant-status-only")}))
    assert [p["name"] for p in out["parameter"]] == ["PackageBundle"]
    bundle: dict[str, Any] = out["parameter"][0]["resource"]
    return bundle


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_questionnaire_first_then_only_allowed_resources(package: dict[str, Any]) -> None:
    assert package["type"] == "collection"
    assert package["entry"][0]["resource"]["resourceType"] == "Questionnaire"
    kinds = [e["resource"]["resourceType"] for e in package["entry"]]
    assert kinds.count("Questionnaire") == 1 and kinds.count("QuestionnaireResponse") == 1
    assert set(kinds) == {"Questionnaire", "QuestionnaireResponse", "Library", "ValueSet"}
    assert all(e.get("fullUrl") for e in package["entry"])


def test_libraries_closure_with_cql_and_elm(package: dict[str, Any]) -> None:
    questionnaire = package["entry"][0]["resource"]
    libraries = {f"{lib['url']}|{lib['version']}": lib for lib in _resources(package, "Library")}
    cqf = [e["valueCanonical"] for e in questionnaire["extension"] if e["url"].endswith("/cqf-library")]
    assert cqf and all(ref in libraries for ref in cqf)
    names = [lib["name"] for lib in libraries.values()]
    assert len(names) == len(set(names)) == 2
    valuesets = {f"{vs['url']}|{vs['version']}" for vs in _resources(package, "ValueSet")}
    for lib in libraries.values():
        types = [c["contentType"] for c in lib["content"]]
        assert types == ["text/cql", "application/elm+json"]
        cql = base64.b64decode(lib["content"][0]["data"]).decode()
        elm = json.loads(base64.b64decode(lib["content"][1]["data"]))
        assert f"library {lib['name']} version '{lib['version']}'" in cql
        assert "context Patient" in cql
        assert elm["library"]["identifier"] == {"id": lib["name"], "version": lib["version"]}
        for artifact in lib["relatedArtifact"]:
            assert artifact["type"] == "depends-on"
            ref = artifact["resource"]
            assert "|" in ref, f"{ref} is not version-specific"
            if "/ValueSet/" in ref:
                assert ref in valuesets
            elif "FHIRHelpers" not in ref:
                assert ref in libraries


def test_every_prepopulation_identifier_names_a_packaged_define(package: dict[str, Any]) -> None:
    questionnaire = package["entry"][0]["resource"]
    prepopulation = next(lib for lib in _resources(package, "Library") if lib["name"] == "DLIPrepopulation")
    elm = json.loads(base64.b64decode(prepopulation["content"][1]["data"]))
    defines = {d["name"] for d in elm["library"]["statements"]["def"]}
    named = [initial_define(item) for item in items(questionnaire["item"]) if item["type"] != "group"]
    assert len(named) == 12 and all(name in defines for name in named)
    for item in items(questionnaire["item"]):
        for ext in item.get("extension", []):
            if ext["url"] == INITIAL:
                assert ext["valueExpression"]["language"] == "text/cql-identifier"


def test_valuesets_expanded_and_version_specific(package: dict[str, Any]) -> None:
    for vs in _resources(package, "ValueSet"):
        codes = sum(len(i.get("concept", [])) for i in vs["compose"]["include"])
        assert vs["expansion"]["total"] == codes == len(vs["expansion"]["contains"])
        assert vs["version"]


def test_draft_response_context(package: dict[str, Any]) -> None:
    questionnaire = package["entry"][0]["resource"]
    draft = package["entry"][1]["resource"]
    assert draft["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    assert draft["status"] == "in-progress"
    assert draft["subject"] == {"reference": "Patient/pat-07"}
    context = {e["url"].rsplit("/", 1)[-1]: e["valueReference"]["reference"] for e in draft["extension"]}
    assert context == {"qr-coverage": "Coverage/cov-1", "qr-context": "ServiceRequest/dli-1"}


def test_launch_context_and_enable_when(package: dict[str, Any]) -> None:
    questionnaire = package["entry"][0]["resource"]
    launch = [
        {x["url"]: x.get("valueCoding", {}).get("code") or x.get("valueCode") for x in e["extension"]}
        for e in questionnaire["extension"]
        if e["url"].endswith("sdc-questionnaire-launchContext")
    ]
    assert {(c["name"], c["type"]) for c in launch} == {
        ("patient", "Patient"),
        ("order", "ServiceRequest"),
        ("coverage", "Coverage"),
    }
    by_id = {i["linkId"]: i for i in items(questionnaire["item"])}
    assert by_id["risk-reduction-commitment"]["enableWhen"][0]["question"] == "current-substance-use"


def test_unknown_questionnaire_is_a_warning(client: Client) -> None:
    out = _out(
        client,
        _params(
            {"name": "questionnaire", "valueCanonical": "http://other.example/Questionnaire/x|1"},
            {"name": "order", "resource": _order("07-transplant-status-only")},
        ),
    )
    names = [p["name"] for p in out["parameter"]]
    assert names == ["PackageBundle", "operationOutcome"]
    issue = out["parameter"][1]["resource"]["issue"][0]
    assert issue["severity"] == "warning" and issue["code"] == "not-found"


def test_questionnaire_canonical_alone(client: Client) -> None:
    q = client.get("/fhir/Questionnaire/dli-cp-mp-101").json()
    out = _out(client, _params({"name": "questionnaire", "valueCanonical": f"{q['url']}|{q['version']}"}))
    assert [p["name"] for p in out["parameter"]] == ["PackageBundle"]


def test_no_questionnaire_when_criteria_already_met(client: Client) -> None:
    """With the record in ``referenced``, the decision core finds the criteria met: no package."""
    request = _request("01-meets-aml-relapse-prevention")
    record = [
        e["resource"]
        for v in request["prefetch"].values()
        if isinstance(v, dict) and v.get("resourceType") == "Bundle"
        for e in v.get("entry", [])
    ]
    out = _out(
        client,
        _params(
            {"name": "order", "resource": _order("01-meets-aml-relapse-prevention")},
            *({"name": "referenced", "resource": r} for r in record),
        ),
    )
    assert [p["name"] for p in out["parameter"]] == ["operationOutcome"]
    issue = out["parameter"][0]["resource"]["issue"][0]
    assert issue["severity"] == "information" and "meets-criteria" in issue["details"]["text"]


def test_no_questionnaire_for_an_order_out_of_scope(client: Client) -> None:
    out = _out(
        client, _params({"name": "order", "resource": _order("37-leukocyte-transfusion-out-of-scope")})
    )
    assert [p["name"] for p in out["parameter"]] == ["operationOutcome"]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"resourceType": "Patient"},
        {"resourceType": "Parameters", "parameter": "x"},
        {"resourceType": "Parameters", "parameter": []},
        {
            "resourceType": "Parameters",
            "parameter": [{"name": "order", "resource": {"resourceType": "ServiceRequest", "id": "x"}}],
        },
        {"resourceType": "Parameters", "parameter": [{"name": "coverage", "resource": COVERAGE}]},
        {
            "resourceType": "Parameters",
            "parameter": [
                {"name": "coverage", "resource": {"resourceType": "Patient", "id": "p"}},
                {"name": "context", "valueString": "c"},
            ],
        },
        {
            "resourceType": "Parameters",
            "parameter": [
                {"name": "coverage", "resource": COVERAGE},
                {"name": "changedsince", "valueInstant": "yesterday"},
                {"name": "context", "valueString": "c"},
            ],
        },
        {
            "resourceType": "Parameters",
            "parameter": [{"name": "coverage", "resource": COVERAGE}, {"name": "bogus", "valueString": "c"}],
        },
        {
            "resourceType": "Parameters",
            "parameter": [
                {"name": "coverage", "resource": COVERAGE},
                {"name": "order", "resource": {"resourceType": "ServiceRequest", "id": "x", "status": 3}},
            ],
        },
    ],
)
def test_bad_input_is_400_with_an_operation_outcome(client: Client, body: Any) -> None:
    response = client.post(PACKAGE, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


def test_changedsince_after_publication_gives_no_package(client: Client) -> None:
    out = _out(
        client,
        _params(
            {"name": "context", "valueString": "abc"},
            {"name": "changedsince", "valueInstant": "2030-01-01T00:00:00Z"},
        ),
    )
    assert out["parameter"] == []


def test_library_read_and_search(client: Client) -> None:
    library = client.get("/fhir/Library/DLIPrepopulation").json()
    assert library["resourceType"] == "Library"
    found = client.get("/fhir/Library", params={"url": f"{library['url']}|{library['version']}"}).json()
    assert found["total"] == 1 and found["entry"][0]["resource"]["id"] == "DLIPrepopulation"
    assert client.get("/fhir/Library", params={"url": library["url"] + "|9"}).json()["total"] == 0
    missing = client.get("/fhir/Library/nope")
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"


def test_valueset_read_and_expand(client: Client) -> None:
    vs = client.get("/fhir/ValueSet/current-smoker").json()
    assert vs["resourceType"] == "ValueSet" and "expansion" not in vs
    got = client.get("/fhir/ValueSet/$expand", params={"url": vs["url"]}).json()
    posted = client.post(
        "/fhir/ValueSet/$expand",
        json={
            "resourceType": "Parameters",
            "parameter": [{"name": "url", "valueUri": f"{vs['url']}|{vs['version']}"}],
        },
    ).json()
    codes = {(i["system"], c["code"]) for i in vs["compose"]["include"] for c in i["concept"]}
    for expanded in (got, posted):
        assert {(c["system"], c["code"]) for c in expanded["expansion"]["contains"]} == codes
    assert client.get("/fhir/ValueSet/$expand", params={"url": "http://x/ValueSet/none"}).status_code == 404
    assert client.get("/fhir/ValueSet/$expand").status_code == 400
    assert client.post("/fhir/ValueSet/$expand", json={"resourceType": "Patient"}).status_code == 400


def test_capability_statement(client: Client) -> None:
    cs = client.get("/fhir/metadata").json()
    assert cs["resourceType"] == "CapabilityStatement" and cs["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in cs["rest"][0]["resource"]}
    assert {"Questionnaire", "Library", "ValueSet", "Claim"} <= set(resources)
    assert [o["name"] for o in resources["Questionnaire"]["operation"]] == ["questionnaire-package"]
    assert [o["name"] for o in resources["Claim"]["operation"]] == ["submit", "inquire"]
    assert [o["name"] for o in resources["ValueSet"]["operation"]] == ["expand"]
