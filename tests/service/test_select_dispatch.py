"""order-select and order-dispatch at their edges: select answers on incomplete data (never a
4xx for it) and decides only the selections; dispatch takes the Inferno kit's context (a
single ``order`` reference, the order prefetched under ``order``), refuses a request naming no
order, and says which dispatched order it cannot read."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.conftest import Client

from .hook_shapes import dispatch_request, orders_of, select_request

ROOT = Path(__file__).resolve().parents[2]
SELECT = "/cds-services/dli-order-select"
DISPATCH = "/cds-services/dli-order-dispatch"


def _request(case: str) -> dict[str, Any]:
    return json.loads((ROOT / "fhir-examples" / case / "request.json").read_text())


def test_select_without_any_record_is_answered(client: Client) -> None:
    request = select_request(_request("01-meets-aml-relapse-prevention"))
    request.pop("prefetch")
    request.pop("fhirServer", None)
    request.pop("fhirAuthorization", None)
    response = client.post(SELECT, json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    (card,) = body["cards"]
    assert "so far" in card["detail"] and "What will be needed" in card["detail"]
    assert body["systemActions"] == []  # no Coverage known yet: nothing to attach it to


def test_select_with_an_incomplete_order_is_answered(client: Client) -> None:
    request = select_request(_request("01-meets-aml-relapse-prevention"))
    order = request["context"]["draftOrders"]["entry"][0]["resource"]
    for element in ("subject", "intent", "status"):
        order.pop(element, None)
    response = client.post(SELECT, json=request)
    assert response.status_code == 200, response.text
    assert len(response.json()["cards"]) == 1


def test_select_decides_only_the_selections(client: Client) -> None:
    request = select_request(_request("36-listed-code-with-dli-in-bundle"))
    request["context"]["selections"] = ["ServiceRequest/conc-1"]
    body = client.post(SELECT, json=request).json()
    assert [a["resource"]["id"] for a in body["systemActions"]] == ["conc-1"]
    assert len(body["cards"]) == 1 and "conc-1" in body["cards"][0]["detail"]


def test_select_needs_selections(client: Client) -> None:
    request = select_request(_request("01-meets-aml-relapse-prevention"))
    request["context"]["selections"] = ["not a reference"]
    response = client.post(SELECT, json=request)
    assert response.status_code == 400
    assert "selections" in response.json()["issue"][0]["diagnostics"]


def test_dispatch_in_the_kits_shape(client: Client) -> None:
    sign = _request("01-meets-aml-relapse-prevention")
    (order,) = orders_of(sign)
    request = copy.deepcopy(sign)
    request["hook"] = "order-dispatch"
    request["context"] = {
        "patientId": sign["context"]["patientId"],
        "order": f"ServiceRequest/{order['id']}",
        "performer": "Practitioner/pra1234",
    }
    request["prefetch"]["order"] = order
    response = client.post(DISPATCH, json=request)
    assert response.status_code == 200, response.text
    signed = client.post("/cds-services/dli-order-sign", json=sign).json()
    assert response.json() == signed


def test_dispatch_naming_no_order_is_a_400(client: Client) -> None:
    request = dispatch_request(_request("01-meets-aml-relapse-prevention"))
    request["context"]["dispatchedOrders"] = []
    response = client.post(DISPATCH, json=request)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["context.dispatchedOrders"]


def test_a_dispatched_order_that_cannot_be_read_is_named(client: Client) -> None:
    request = dispatch_request(_request("01-meets-aml-relapse-prevention"), orders_in_prefetch=False)
    request.pop("fhirServer", None)
    request.pop("fhirAuthorization", None)
    response = client.post(DISPATCH, json=request)
    assert response.status_code == 412
    assert "ServiceRequest/" in response.json()["issue"][0]["diagnostics"]


def test_configuration_options_apply_to_every_hook(client: Client) -> None:
    sign = _request("01-meets-aml-relapse-prevention")
    for url, request in ((SELECT, select_request(sign)), (DISPATCH, dispatch_request(sign))):
        for options, cards, actions in (
            ({"coverage-info": False}, 1, 0),
            ({"guideline": False}, 0, 1),
            ({"max-cards": 0}, 0, 1),
            ({"inferno-unknown": True}, 1, 1),
        ):
            configured = copy.deepcopy(request)
            configured["extension"] = {"davinci-crd.configuration": options}
            body = client.post(url, json=configured).json()
            assert (len(body["cards"]), len(body["systemActions"])) == (cards, actions), (url, options)
