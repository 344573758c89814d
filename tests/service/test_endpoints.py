"""Discovery, CORS, feedback, the questionnaire, the JSON rule and the audit log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Client

ROOT = Path(__file__).resolve().parents[2]
URL = "/cds-services/dli-order-sign"


def _request(case: str) -> dict[str, Any]:
    return json.loads((ROOT / "fhir-examples" / case / "request.json").read_text())


def test_discovery(client: Client) -> None:
    response = client.get("/cds-services")
    assert response.status_code == 200
    assert set(response.json()) == {"services"}
    services = response.json()["services"]
    assert {(s["hook"], s["id"]) for s in services} == {
        ("order-sign", "dli-order-sign"),
        ("order-dispatch", "dli-order-dispatch"),
        ("order-select", "dli-order-select"),
    }
    for service in services:
        assert {
            "patient",
            "coverage",
            "conditions",
            "procedures",
            "labObservations",
            "socialObservations",
            "medicationRequests",
            "goals",
            "questionnaireResponses",
        } <= set(service["prefetch"])
        assert service["prefetch"]["coverage"] == "Coverage?patient={{context.patientId}}&status=active"
        ext = service["extension"]
        assert "2.2" in ext["davinci-crd.version"]
        options = ext["davinci-crd.configuration-options"]
        for option in options:
            assert set(option) == {"code", "type", "name", "description", "default"}
            assert option["type"] in ("boolean", "integer")
        codes = [o["code"] for o in options]
        assert len(codes) == len(set(codes)) and "coverage-info" in codes and "max-cards" in codes
        assert "authentication is OFF" in service["description"]


def test_cors_preflight_and_post(client: Client) -> None:
    preflight = client.options(
        URL,
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    response = client.post(
        URL,
        json=_request("01-meets-aml-relapse-prevention"),
        headers={"Origin": "https://sandbox.cds-hooks.org"},
    )
    assert response.headers["access-control-allow-origin"] in ("*", "https://sandbox.cds-hooks.org")
    error = client.post(URL, content=b"{", headers={"Origin": "https://sandbox.cds-hooks.org"})
    assert error.status_code == 400 and "access-control-allow-origin" in error.headers


def test_feedback_is_validated_and_stored(client: Client, app: Any) -> None:
    good = {
        "feedback": [
            {
                "card": "c1",
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": "s1"}],
                "outcomeTimestamp": "2026-11-24T10:05:00Z",
            },
            {
                "card": "c1",
                "outcome": "overridden",
                "outcomeTimestamp": "2026-11-24T10:06:00.123+01:00",
                "overrideReason": {
                    "reason": {
                        "system": "https://dli-cds.org/fhir/CodeSystem/override-reason",
                        "code": "clinical-exception",
                        "display": "x",
                    },
                    "userComment": "urgent",
                },
            },
        ]
    }
    assert client.post(f"{URL}/feedback", json=good).status_code == 200
    rows = app.state.database.feedback_rows()
    assert [r["outcome"] for r in rows] == ["accepted", "overridden"]
    assert rows[1]["override_comment"] == "urgent"
    for bad in (
        {"feedback": []},
        {"feedback": [{"card": "c", "outcome": "dismissed", "outcomeTimestamp": "2026-11-24T10:00:00Z"}]},
        {"feedback": [{"card": "c", "outcome": "accepted"}]},
        {"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "yesterday"}]},
    ):
        response = client.post(f"{URL}/feedback", json=bad)
        assert response.status_code == 400 and response.json()["resourceType"] == "OperationOutcome"


def test_questionnaire_resolves_at_its_canonical(client: Client) -> None:
    q = client.get("/fhir/Questionnaire/dli-cp-mp-101").json()
    assert q["resourceType"] == "Questionnaire"
    assert q["url"] == "http://127.0.0.1:8080/fhir/Questionnaire/dli-cp-mp-101"

    def link_ids(items: list[dict[str, Any]]) -> list[str]:
        out = []
        for item in items:
            if item["type"] != "group":
                out.append(item["linkId"])
            out += link_ids(item.get("item", []))
        return out

    assert sorted(link_ids(q["item"])) == sorted(
        [
            "allogeneic-hsct",
            "transplant-indication-malignant",
            "acute-gvhd-grade",
            "donor-chimerism-percent",
            "uncontrolled-resistant-infection",
            "able-to-adhere",
            "adequate-social-support",
            "current-substance-use",
            "risk-reduction-evidence",
            "urgent-timeline",
            "risk-reduction-commitment",
            "lymphocytes-manipulated",
        ]
    )
    found = client.get("/fhir/Questionnaire", params={"url": f"{q['url']}|{q['version']}"}).json()
    assert found["total"] == 1 and found["entry"][0]["resource"]["url"] == q["url"]
    assert client.get("/fhir/Questionnaire", params={"url": q["url"] + "|0.0.1"}).json()["total"] == 0
    assert client.get("/fhir/Questionnaire", params={"url": "http://other/Q"}).json()["total"] == 0
    dn = client.post(URL, json=_request("12-acute-gvhd-no-grade")).json()
    ext = dn["systemActions"][0]["resource"]["extension"][-1]["extension"]
    assert {"url": "questionnaire", "valueCanonical": f"{q['url']}|{q['version']}"} in ext


def _assert_no_empty(value: Any, path: str = "") -> None:
    assert value is not None, f"null at {path}"
    if isinstance(value, str):
        assert value != "", f"empty string at {path}"
    elif isinstance(value, list):
        assert value, f"empty array at {path}"
        for i, v in enumerate(value):
            _assert_no_empty(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        assert value, f"empty object at {path}"
        for k, v in value.items():
            _assert_no_empty(v, f"{path}.{k}")


def test_json_rule_on_every_example(client: Client) -> None:
    for request_file in sorted((ROOT / "fhir-examples").glob("*/request.json")):
        body = client.post(URL, json=json.loads(request_file.read_text())).json()
        assert isinstance(body["systemActions"], list)  # always present (CRD, issue 19)
        rest = {k: v for k, v in body.items() if not (k in ("cards", "systemActions") and v == [])}
        if rest:  # only the top-level "cards" and "systemActions" may be []
            _assert_no_empty(rest)
        for card in body["cards"]:
            assert len(card["summary"]) < 140
            assert all(r.get("display") for r in card["overrideReasons"])
        for action in body.get("systemActions", []):
            assert action["type"] == "update" and action["description"]


def test_every_call_is_audited_without_tokens(client: Client, app: Any) -> None:
    request = _request("23-current-smoker")
    client.post(URL, json=request)
    client.post(URL, content=b"{")
    rows = app.state.database.audit_rows(limit=10)
    ok = next(r for r in rows if r["status"] == 200)
    assert ok["hook_instance"] == request["hookInstance"] and ok["patient_id"] == "pat-23"
    orders = json.loads(ok["orders"])
    assert orders[0]["order"] == "ServiceRequest/dli-1" and orders[0]["outcome"] == "not-medically-necessary"
    assert orders[0]["coverage_assertion_id"]
    assert ok["latency_ms"] > 0 and "cards" in ok["response"]
    assert any(r["status"] == 400 for r in rows)
    assert all("example-access-token" not in json.dumps(r, default=str) for r in rows)


def test_crd_version_selects_code_systems(client: Client) -> None:
    old = client.post(URL, json=_request("41-crd-2-0-1-documentation-needed")).json()
    new = client.post(URL, json=_request("42-crd-2-2-not-covered")).json()
    old_ext = {e["url"]: e for e in old["systemActions"][0]["resource"]["extension"][-1]["extension"]}
    new_ext = {e["url"]: e for e in new["systemActions"][0]["resource"]["extension"][-1]["extension"]}
    assert (
        old_ext["doc-needed"]["valueCode"] == "clinical"
        and old_ext["pa-needed"]["valueCode"] == "auth-needed"
    )
    assert new_ext["covered"]["valueCode"] == "not-covered" and "pa-needed" not in new_ext
    assert new_ext["reason"]["valueCodeableConcept"]["text"].startswith("CP.MP.101 I.C.4:")


def test_the_order_is_returned_unchanged_but_for_the_extension(client: Client) -> None:
    request = _request("01-meets-aml-relapse-prevention")
    order = request["context"]["draftOrders"]["entry"][0]["resource"]
    action = client.post(URL, json=request).json()["systemActions"][0]
    returned = dict(action["resource"])
    extensions = returned.pop("extension")
    assert returned == order and len(extensions) == 1


def test_hook_instance_is_never_deduplicated(client: Client) -> None:
    request = _request("01-meets-aml-relapse-prevention")
    first = client.post(URL, json=request).json()
    second = client.post(URL, json=request).json()
    assert first == second and first["cards"]


def test_an_empty_fhir_server_is_read_as_none(client: Client) -> None:
    """A client with no FHIR server to offer may send ``"fhirServer": ""``: with the record in
    prefetch the answer is the same as without the field; with data missing it is a 412."""
    request = _request("01-meets-aml-relapse-prevention")
    expected = client.post(URL, json=request).json()
    request.pop("fhirAuthorization", None)
    request["fhirServer"] = ""
    assert client.post(URL, json=request).json() == expected
    del request["prefetch"]["conditions"]
    response = client.post(URL, json=request)
    assert response.status_code == 412 and response.json()["resourceType"] == "OperationOutcome"
