"""schemathesis against the service's own OpenAPI document (``cds/openapi.py``): requests
generated from the documented schemas — fitting them and, in negative mode, breaking them — are
never answered with a 5xx, every status and content type is documented, every 2xx body fits its
schema, every 4xx carries an OperationOutcome, and requests that break the schema are refused.

CI runs ``OPENAPI_EXAMPLES`` (default 60) examples per operation and mode, deterministically; the
full run (issue 4) sets e.g. ``OPENAPI_EXAMPLES=1000`` and explores at random.

Nothing here depends on the machine's speed or network, so a loaded machine answers alike: the
generated ``fhirServer`` addresses are never connected to (every one is unreachable at once:
the FHIR client's transport refuses every request, as a closed port does, after httpx has read
the address and the token as it does for a real one), the time budget and the per-call timeout
are far above any answer's time (they guard against a hang; speed is measured in benchmarks/),
and hypothesis has no deadline and no health checks.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from unittest import mock

import httpx
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

import cds.app
from cds.app import create_app
from cds.fhir_client import FhirClient
from tests.conftest import NOW, make_settings
from tests.service.conftest import GENERATED

EXAMPLES = int(os.environ.get("OPENAPI_EXAMPLES", "60"))
HANG_SECONDS = 300  # a hang, not slowness: the slowest answer takes a fraction of a second


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("every FHIR server is unreachable in this test", request=request)


# The app's FHIR client reaches no network: the answer to a generated fhirServer cannot depend on
# what listens on this machine, on DNS, or on how fast either answers.
OFFLINE = functools.partial(FhirClient, transport=httpx.MockTransport(_unreachable))
with mock.patch.object(cds.app, "FhirClient", OFFLINE):
    APP = create_app(
        make_settings(Path(tempfile.mkdtemp()), fhir_timeout_seconds=0.2, time_budget_seconds=HANG_SECONDS),
        clock=lambda: NOW,
    )
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
# schemathesis gives every call a 10 s read timeout by default, even in process: a loaded machine
# can trip it. Like the time budget above, this one only catches a hang.
schema.config.update(request_timeout=HANG_SECONDS)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    deterministic="OPENAPI_EXAMPLES" not in os.environ,
    database="none",
)


def not_a_server_error(response: schemathesis.Response) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests(case: schemathesis.Case) -> None:
    response = case.call()
    GENERATED["schemathesis (OpenAPI)"] += 1
    not_a_server_error(response)
    checks = [status_code_conformance, content_type_conformance, response_schema_conformance]
    if case.meta is not None and case.meta.generation.mode is GenerationMode.NEGATIVE:
        checks.append(negative_data_rejection)
    case.validate_response(response, checks=checks)
    if case.path == "/fhir/auth/token" and response.status_code in (400, 401):
        assert "error" in response.json()  # OAuth 2.0 errors (RFC 6749), not OperationOutcomes
    elif 400 <= response.status_code < 500 and response.status_code != 401:
        assert response.json()["resourceType"] == "OperationOutcome"


def test_every_route_is_documented() -> None:
    documented = {
        (path, method.upper()) for path, ops in schema.raw_schema["paths"].items() for method in ops
    }
    served = {
        (route.path, method)
        for route in APP.routes
        if route.path != "/openapi.json"
        for method in getattr(route, "methods", set()) - {"HEAD"}
    }
    assert served == documented
