"""The order-dispatch and order-select requests of an order-sign request (a ``fhir-examples``
case): the same patient, record, FHIR server, token, hookInstance and extensions; every draft
order dispatched (by reference, the resources in the prefetch under a key we do not advertise)
or selected."""

from __future__ import annotations

import copy
from typing import Any


def orders_of(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in request["context"]["draftOrders"].get("entry", [])]


def references(request: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(f"{o['resourceType']}/{o.get('id')}" for o in orders_of(request)))


def dispatch_request(sign: dict[str, Any], *, orders_in_prefetch: bool = True) -> dict[str, Any]:
    request = copy.deepcopy(sign)
    request["hook"] = "order-dispatch"
    request["context"] = {
        "patientId": sign["context"]["patientId"],
        "dispatchedOrders": references(sign),
        "performer": "Practitioner/dli-performer",
    }
    if orders_in_prefetch:
        request["prefetch"] = dict(request.get("prefetch") or {})
        request["prefetch"]["dispatched"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": o} for o in orders_of(sign)],
        }
    return request


def select_request(sign: dict[str, Any]) -> dict[str, Any]:
    request = copy.deepcopy(sign)
    request["hook"] = "order-select"
    request["context"]["selections"] = references(sign)
    return request
