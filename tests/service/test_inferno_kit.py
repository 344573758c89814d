"""The Inferno Da Vinci CRD server suite (``inferno-framework/davinci-crd-test-kit``, CRD 2.0.1)
played against the service (issue 19): its preset request shapes for order-sign, order-select
and order-dispatch, built from every ``fhir-examples/`` case, and its discovery, service-call,
response, card, optional-field and coverage-information rules. Each failure is worded as the kit
words it, so a failing test reads like the kit's report.

Request shapes (from the kit's ``config/presets/ri_crd_server.json.erb`` and its service-call
test): the request as sent with a ``Authorization: Bearer`` JWT the kit signs with its own key
(client authentication is off here: the header must be ignored), a ``hookInstance`` that is not a
UUID and not hex, ``fhirAuthorization`` without ``patient``, the kit's configuration options
(``alt-drug``, ``dtr-clin``, ``coverage``...: unknown to us, ignored), and for order-dispatch
the kit's context (a single ``order`` reference, the order prefetched under ``order``).
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cds.coverage_information import EXTENSION_URL
from cds.prefetch import resources_of

from ..conftest import Client
from .hook_shapes import dispatch_request, orders_of, references, select_request
from .kit_rules import PRIMARY, card_rules, coverage_information_rules, response_rules

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(p.parent for p in (ROOT / "fhir-examples").glob("*/request.json"))
SERVICES = {
    "order-sign": "dli-order-sign",
    "order-select": "dli-order-select",
    "order-dispatch": "dli-order-dispatch",
}
_KIT_KEY = ec.generate_private_key(ec.SECP384R1())

# ------------------------------------------------------------------------------------ shapes


def _kit_dispatch(sign: dict[str, Any]) -> dict[str, Any]:
    """The kit's order-dispatch: ``order`` (one reference) when one order is dispatched, the
    order prefetched under ``order``; CRD's ``dispatchedOrders`` otherwise."""
    refs = references(sign)
    if len(refs) != 1:
        return dispatch_request(sign)
    request = dispatch_request(sign, orders_in_prefetch=False)
    context = request["context"]
    context["order"] = context.pop("dispatchedOrders")[0]
    request["prefetch"] = {**(request.get("prefetch") or {}), "order": orders_of(sign)[0]}
    return request


BUILD: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "order-sign": lambda r: copy.deepcopy(r),
    "order-select": select_request,
    "order-dispatch": _kit_dispatch,
}


def _hook_instance_not_hex(request: dict[str, Any]) -> dict[str, Any]:
    request["hookInstance"] = f"inferno-{request['hook']}-f3945c39-dfbe-444f-ba6d-3e05e123b2va"
    return request


def _authorization_without_patient(request: dict[str, Any]) -> dict[str, Any]:
    if isinstance(request.get("fhirAuthorization"), dict):
        request["fhirAuthorization"].pop("patient", None)
    return request


def _kit_configuration(request: dict[str, Any]) -> dict[str, Any]:
    extension = request.setdefault("extension", {})
    options = extension.setdefault("davinci-crd.configuration", {})
    for option, value in {"alt-drug": True, "dtr-clin": True, "coverage": True, "max-cards": 10}.items():
        options.setdefault(option, value)
    return request


SHAPES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "as-sent": lambda r: r,
    "hookInstance-not-hex": _hook_instance_not_hex,
    "fhirAuthorization-without-patient": _authorization_without_patient,
    "kit-configuration-options": _kit_configuration,
}


def _kit_jwt(audience: str) -> str:
    """A token as the kit's service-call test signs it (ES384, its own jku and kid)."""
    now = int(time.time())
    claims = {
        "iss": "https://inferno.example/custom/crd_server",
        "aud": audience,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    headers = {
        "kid": "4b49a739d1eb115b3225f4cf9beb6d1b",
        "jku": "https://inferno.example/jwks.json",
        "typ": "JWT",
    }
    return jwt.encode(claims, _KIT_KEY, algorithm="ES384", headers=headers)


def _call(client: Client, hook: str, body: dict[str, Any]) -> Any:
    url = f"{client.base_url}/cds-services/{SERVICES[hook]}"
    headers = {"Authorization": f"Bearer {_kit_jwt(url)}"}
    return client.post(f"/cds-services/{SERVICES[hook]}", json=body, headers=headers)


# ------------------------------------------------------------------------------------ tests


def test_discovery_rules(apps: Any) -> None:
    """discovery_endpoint_test.rb and discovery_services_validation_test.rb, with the kit's JWT."""
    client = apps("2026-11-24T10:00:00Z")
    response = client.get("/cds-services", headers={"Authorization": f"Bearer {_kit_jwt('x')}"})
    assert response.status_code == 200, "Unexpected response status: expected 200"
    body = response.json()
    assert isinstance(body.get("services"), list), (
        "Services field of the CDS Discovery response object is not an array."
    )
    for service in body["services"]:
        for field in ("hook", "description", "id"):
            assert isinstance(service.get(field), str) and service[field], (
                f"Service `{service.get('id')}` did not contain required field: `{field}`"
            )
        assert all(isinstance(q, str) for q in (service.get("prefetch") or {}).values())
    assert {s["hook"]: s["id"] for s in body["services"]} == SERVICES, "a hook's service was not discovered"


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
@pytest.mark.parametrize("hook", SERVICES, ids=list(SERVICES))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_kit_rules(case: Path, hook: str, shape: str, apps: Any) -> None:
    meta = json.loads((case / "case.json").read_text())
    request = SHAPES[shape](BUILD[hook](json.loads((case / "request.json").read_text())))
    response = _call(apps(meta["now"]), hook, request)
    assert response.status_code == 200, (
        f"Unexpected response status: expected 200, but received {response.status_code}: {response.text}"
    )
    body = response.json()
    assert response_rules(body, hook, request) == []
    if hook in PRIMARY and meta["outcomes"] and _has_coverage(request):
        # hook-16: a primary hook returns coverage information for every order it decides.
        assert {
            f"{a['resource']['resourceType']}/{a['resource']['id']}" for a in body["systemActions"]
        } == set(meta["outcomes"])


def _has_coverage(request: dict[str, Any]) -> bool:
    return any(
        r["resourceType"] == "Coverage"
        for v in (request.get("prefetch") or {}).values()
        for r in resources_of(v)
    )


def test_the_cases_include_answers_without_coverage_information(apps: Any) -> None:
    """The rules matter where there is nothing to say: a case without a Coverage and a case
    without an order in scope answer with ``systemActions: []`` on the primary hooks."""
    empty: dict[str, set[str]] = {}
    for case in CASES:
        meta = json.loads((case / "case.json").read_text())
        request = json.loads((case / "request.json").read_text())
        for hook in PRIMARY:
            body = _call(apps(meta["now"]), hook, BUILD[hook](request)).json()
            if body.get("systemActions") == []:
                empty.setdefault("no coverage" if meta["outcomes"] else "nothing in scope", set()).add(hook)
    assert empty == {"no coverage": PRIMARY, "nothing in scope": PRIMARY}


# ------------------------------------------------------------------------------------ the rules can fail


def _good_resource() -> dict[str, Any]:
    request = json.loads(
        (ROOT / "fhir-examples" / "41-crd-2-0-1-documentation-needed" / "request.json").read_text()
    )
    body = json.loads(
        (ROOT / "fhir-examples" / "41-crd-2-0-1-documentation-needed" / "expected.json").read_text()
    )
    resource: dict[str, Any] = body["systemActions"][0]["resource"]
    assert coverage_information_rules(resource) == [] and request
    return resource


def _subs(resource: dict[str, Any]) -> list[dict[str, Any]]:
    ext = next(e for e in resource["extension"] if e["url"] == EXTENSION_URL)
    subs: list[dict[str, Any]] = ext["extension"]
    return subs


BREAKS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "full-url-slice": (lambda r: _subs(r)[1].update(url=f"{EXTENSION_URL}#covered"), "is not a slice name"),
    "coding-for-code": (
        lambda r: _subs(r)[1].update(valueCoding={"code": "covered"}) or _subs(r)[1].pop("valueCode"),
        "must be valueCode",
    ),
    "no-date": (
        lambda r: _subs(r).remove(next(s for s in _subs(r) if s["url"] == "date")),
        "`date` must appear exactly once",
    ),
    "q1": (lambda r: _subs(r).remove(next(s for s in _subs(r) if s["url"] == "doc-needed")), "crd-ci-q1"),
    "q2": (lambda r: _subs(r).remove(next(s for s in _subs(r) if s["url"] == "pa-needed")), "crd-ci-q2"),
    "q3": (lambda r: _subs(r).append({"url": "info-needed", "valueCode": "OTH"}), "crd-ci-q3"),
    "q5": (lambda r: _subs(r).append({"url": "satisfied-pa-id", "valueString": "pa-1"}), "crd-ci-q5"),
    "valued-extension": (lambda r: r["extension"][-1].update(valueString="x"), "has a value"),
    "same-coverage-two-ids": (
        lambda r: r["extension"].append(
            {
                **copy.deepcopy(r["extension"][-1]),
                "extension": [
                    {**s, "valueString": "other"} if s["url"] == "coverage-assertion-id" else s
                    for s in _subs(r)
                ],
            }
        ),
        "different coverage-assertion-ids",
    ),
    "other-coverage-same-id": (
        lambda r: r["extension"].append(
            {
                **copy.deepcopy(r["extension"][-1]),
                "extension": [
                    {**s, "valueReference": {"reference": "Coverage/other"}} if s["url"] == "coverage" else s
                    for s in _subs(r)
                ],
            }
        ),
        "SHALL have distinct coverage-assertion-ids",
    ),
}


@pytest.mark.parametrize("name", BREAKS, ids=list(BREAKS))
def test_each_coverage_information_rule_can_fail(name: str) -> None:
    resource = copy.deepcopy(_good_resource())
    breaker, message = BREAKS[name]
    breaker(resource)
    errors = coverage_information_rules(resource)
    assert any(message in e for e in errors), errors


def test_each_card_rule_can_fail() -> None:
    body = json.loads(
        (ROOT / "fhir-examples" / "01-meets-aml-relapse-prevention" / "expected.json").read_text()
    )
    card = body["cards"][0]
    assert card_rules(card) == []
    broken = {
        "`summary` is over": {**card, "summary": "x" * 140},
        "`indicator` is": {**card, "indicator": "hard-stop"},
        "`label`": {**card, "source": {**card["source"], "label": ""}},
        "`topic`": {**card, "source": {"label": "Plan"}},
        "not a valid URL": {**card, "links": [{**card["links"][0], "url": "/relative/policy.pdf"}]},
        "appContext": {**card, "links": [{**card["links"][0], "appContext": "x"}]},
    }
    for message, bad in broken.items():
        assert any(message in e for e in card_rules(bad)), message
