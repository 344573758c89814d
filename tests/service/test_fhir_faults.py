"""A misbehaving FHIR server never hangs a request nor leaks a 500: the answer is the CRD
coverage information 'indeterminate' with reason 'technical' (2.2; conditional + OTH for 2.0.1)
and a card saying the record could not be read."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cds.app import create_app
from tests import fault_fhir_server
from tests.conftest import NOW, Client, make_settings
from tests.service.hook_shapes import dispatch_request, select_request

ROOT = Path(__file__).resolve().parents[2]
REQUEST = json.loads(
    (ROOT / "fhir-examples" / "01-meets-aml-relapse-prevention" / "request.json").read_text()
)
BUDGET = 3.0
FAULTS = [
    "slow",
    "error500",
    "unauthorized",
    "forbidden",
    "malformed",
    "not-a-bundle",
    "endless-pages",
    "huge",
    "drip",
    "reset",
]


@pytest.fixture(scope="module")
def fault_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = make_settings(
        tmp_path_factory.mktemp("faults"),
        fhir_timeout_seconds=1.0,
        time_budget_seconds=BUDGET,
        fhir_max_pages=3,
        max_resources=5000,
    )
    app = create_app(settings, clock=lambda: NOW)
    yield Client(app)
    app.state.database.close()


def _without_record(base: str, version: str | None) -> dict[str, Any]:
    request = copy.deepcopy(REQUEST)
    request["prefetch"] = {
        "patient": request["prefetch"]["patient"],
        "coverage": request["prefetch"]["coverage"],
    }
    request["fhirServer"] = base
    if version:
        request["extension"] = {"davinci-crd.requestedVersion": version}
    return request


def _coverage(body: dict[str, Any]) -> dict[str, Any]:
    ext = body["systemActions"][0]["resource"]["extension"][-1]["extension"]
    return {e["url"]: e for e in ext}


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_answers_indeterminate_technical(fault_client: Client, fault: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(fault_fhir_server, "SLOW_SECONDS", 5.0)
    monkeypatch.setattr(fault_fhir_server, "DRIP_INTERVAL", 0.2)
    with fault_fhir_server.fault_server() as (root, _log):
        response = fault_client.post(
            "/cds-services/dli-order-sign", json=_without_record(f"{root}/{fault}", "2.2")
        )
    # No wall-clock assertion (speed is measured by benchmarks): a slow server that was waited
    # for would have answered in the end and the coverage would be decided, not technical.
    assert response.status_code == 200, response.text
    body = response.json()
    cov = _coverage(body)
    assert cov["covered"]["valueCode"] == "indeterminate"
    reason = cov["reason"]["valueCodeableConcept"]
    assert reason["coding"][0]["code"] == "technical" and reason["text"]
    assert "could not be read" in body["cards"][0]["summary"]


def test_connection_refused_and_crd_2_0_1(fault_client: Client) -> None:
    response = fault_client.post(
        "/cds-services/dli-order-sign", json=_without_record(fault_fhir_server.closed_port_url(), None)
    )
    assert response.status_code == 200
    cov = _coverage(response.json())
    assert cov["covered"]["valueCode"] == "conditional"  # 2.0.1 has no 'indeterminate'
    assert cov["pa-needed"]["valueCode"] == "conditional" and cov["info-needed"]["valueCode"] == "OTH"


def test_a_healthy_server_is_read_with_the_token(fault_client: Client) -> None:
    with fault_fhir_server.fault_server() as (root, log):
        response = fault_client.post(
            "/cds-services/dli-order-sign", json=_without_record(f"{root}/ok", "2.2")
        )
    assert response.status_code == 200
    assert log and all(auth == "Bearer example-access-token" for _, _, auth in log)
    assert _coverage(response.json())["covered"]["valueCode"] == "covered"


def test_an_unsupported_search_is_no_data_not_an_outage(fault_client: Client) -> None:
    """A server that answers 400 to one of our searches (here: all of them) leaves those facts
    unknown — documentation needed — instead of failing the whole answer."""
    with fault_fhir_server.fault_server() as (root, _log):
        response = fault_client.post(
            "/cds-services/dli-order-sign", json=_without_record(f"{root}/bad-request", "2.2")
        )
    assert response.status_code == 200
    cov = _coverage(response.json())
    assert cov["covered"]["valueCode"] == "covered" and cov["doc-needed"]["valueCode"] == "clinical"


@pytest.mark.parametrize("fault", ["error500", "malformed", "reset"])
def test_select_and_dispatch_answer_technical_too(fault_client: Client, fault: str) -> None:
    """The same fault handling behind every door (one decision core): order-dispatch (the
    order in the prefetch) and order-select answer indeterminate/technical, never a 5xx."""
    with fault_fhir_server.fault_server() as (root, _log):
        sign = _without_record(f"{root}/{fault}", "2.2")
        for service, body in (
            ("dli-order-dispatch", dispatch_request(sign)),
            ("dli-order-select", select_request(sign)),
        ):
            response = fault_client.post(f"/cds-services/{service}", json=body)
            assert response.status_code == 200, (service, response.text)
            cov = _coverage(response.json())
            assert cov["covered"]["valueCode"] == "indeterminate", service
            assert cov["reason"]["valueCodeableConcept"]["coding"][0]["code"] == "technical", service


@pytest.mark.parametrize("base", ["http://[zz]/fhir", "http://xn--/fhir", "http://\x00/fhir"])
def test_a_fhir_server_address_httpx_cannot_use_is_technical_not_a_500(fault_client: Client, base: str) -> None:
    """Hosts that httpx refuses before connecting (InvalidURL, an IDNA error) are an unreachable
    FHIR server like any other: indeterminate/technical (found by schemathesis on order-dispatch)."""
    response = fault_client.post("/cds-services/dli-order-sign", json=_without_record(base, "2.2"))
    assert response.status_code == 200, response.text
    assert _coverage(response.json())["covered"]["valueCode"] == "indeterminate"


@pytest.mark.parametrize("token", ["tök\u00e9n", "a\r\nX-Injected: 1"])
def test_an_access_token_httpx_cannot_send_is_technical_not_a_500(fault_client: Client, token: str) -> None:
    """A fhirAuthorization token that cannot be an HTTP header value (not ASCII, or a control
    character) is a FHIR server that cannot be read, like an unusable address: indeterminate/
    technical, and for order-dispatch (the order to read) a 412; never a 500 (found by
    schemathesis on order-dispatch)."""
    with fault_fhir_server.fault_server() as (root, log):
        sign = _without_record(f"{root}/ok", "2.2")
        sign["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer", "subject": "dli"}
        response = fault_client.post("/cds-services/dli-order-sign", json=sign)
        assert response.status_code == 200, response.text
        assert _coverage(response.json())["covered"]["valueCode"] == "indeterminate"
        dispatch = fault_client.post(
            "/cds-services/dli-order-dispatch", json=dispatch_request(sign, orders_in_prefetch=False)
        )
        assert dispatch.status_code == 412, dispatch.text
        assert dispatch.json()["resourceType"] == "OperationOutcome"
    assert log == [], "nothing is sent with a token that cannot be"
