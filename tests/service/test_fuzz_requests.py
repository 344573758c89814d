"""Generated request shapes (hypothesis) on the three hooks: whatever a client sends, the answer is never a 5xx
and every 4xx carries an OperationOutcome. CI runs a few hundred examples; set
``FUZZ_EXAMPLES=10000`` for the full run (issue 4)."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds.app import create_app
from tests.conftest import NOW, Client, make_settings
from tests.service.conftest import GENERATED
from tests.service.hook_shapes import dispatch_request, select_request

ROOT = Path(__file__).resolve().parents[2]
SIGN = [json.loads(p.read_text()) for p in sorted((ROOT / "fhir-examples").glob("*/request.json"))[:12]]
# (service, request): the three hooks, their requests built from the same examples.
BASES = [
    *(("dli-order-sign", r) for r in SIGN),
    *(("dli-order-select", select_request(r)) for r in SIGN[:6]),
    *(("dli-order-dispatch", dispatch_request(r)) for r in SIGN[:6]),
]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
# The CI run is reproducible (derandomized); a full run (FUZZ_EXAMPLES set) explores at random.
DERANDOMIZE = "FUZZ_EXAMPLES" not in os.environ
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=DERANDOMIZE
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            out += _paths(v, (*prefix, i))
    return out


def _mutated(draw: st.DrawFn, base: Any) -> bytes:
    """``base`` (a copy) with 1 to 4 of its members, at any depth, deleted, set to null or
    replaced by generated JSON (fewer when nothing is left), as JSON bytes."""
    body = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(body)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = body
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["delete", "replace", "null"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "null":
            parent[path[-1]] = None
        else:
            parent[path[-1]] = draw(JSON)
    return json.dumps(body).encode()


def _garbage(draw: st.DrawFn) -> bytes | None:
    """One time in ten, a body of arbitrary bytes instead of a mutated request."""
    return draw(st.binary(max_size=64)) if draw(st.integers(0, 9)) == 0 else None


def _send(path: str, body: bytes, content_type: str, kind: str, answered: Callable[[Any], bool]) -> None:
    """POST ``body``: never a 5xx; a 4xx is an OperationOutcome; a 2xx is what ``answered``
    accepts. ``kind`` counts it in the run's summary."""
    response = _client().post(path, content=body, headers={"Content-Type": content_type})
    GENERATED[kind] += 1
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["resourceType"] == "OperationOutcome"
    else:
        assert answered(response.json()), response.text


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, bytes]:
    service, base = draw(st.sampled_from(BASES))
    garbage = _garbage(draw)
    return service, garbage if garbage is not None else _mutated(draw, base)


_CLIENT: Client | None = None


def _client() -> Client:
    global _CLIENT
    if _CLIENT is None:
        import tempfile

        app = create_app(
            make_settings(Path(tempfile.mkdtemp()), fhir_timeout_seconds=0.2, time_budget_seconds=0.5),
            clock=lambda: NOW,
        )
        _CLIENT = Client(app)
    return _CLIENT


@FUZZ
@given(requests())
def test_generated_requests_never_fail_the_server(request: tuple[str, bytes]) -> None:
    service, body = request
    _send(f"/cds-services/{service}", body, "application/json", "hypothesis request shapes", lambda a: "cards" in a)


# ---------------------------------------------------------------------- PAS Claim/$submit, $inquire
PAS_BASES = [
    json.loads(p.read_text()) for p in sorted((ROOT / "fhir-examples" / "pas").glob("*/bundle.json"))
]


@st.composite
def pas_requests(draw: st.DrawFn) -> tuple[str, bytes]:
    operation = draw(st.sampled_from(["$submit", "$inquire"]))
    garbage = _garbage(draw)
    return operation, garbage if garbage is not None else _mutated(draw, draw(st.sampled_from(PAS_BASES)))


@FUZZ
@given(pas_requests())
def test_generated_pas_bundles_never_fail_the_server(request: tuple[str, bytes]) -> None:
    operation, body = request
    _send(
        f"/fhir/Claim/{operation}",
        body,
        "application/fhir+json",
        "hypothesis PAS Bundles",
        lambda answer: answer["resourceType"] in ("Bundle", "Parameters"),
    )


# ---------------------------------------------------------------------- DTR $questionnaire-package
_DTR_REQUEST = json.loads((ROOT / "fhir-examples" / "07-transplant-status-only" / "request.json").read_text())
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
        *(
            {"name": "order", "resource": e["resource"]}
            for e in _DTR_REQUEST["context"]["draftOrders"]["entry"]
        ),
        {
            "name": "questionnaire",
            "valueCanonical": "http://127.0.0.1:8080/fhir/Questionnaire/dli-cp-mp-101|1.1.0",
        },
        {"name": "context", "valueString": "assertion-1"},
    ],
}


@st.composite
def dtr_requests(draw: st.DrawFn) -> bytes:
    garbage = _garbage(draw)
    return garbage if garbage is not None else _mutated(draw, DTR_BASE)


@FUZZ
@given(dtr_requests())
def test_generated_package_requests_never_fail_the_server(body: bytes) -> None:
    _send(
        "/fhir/Questionnaire/$questionnaire-package",
        body,
        "application/fhir+json",
        "hypothesis DTR package requests",
        lambda answer: answer["resourceType"] == "Parameters",
    )
