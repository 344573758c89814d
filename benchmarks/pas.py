"""PAS ``Claim/$submit`` beside order-sign on the same record, in process (ASGI, no network).

    .venv/bin/python -m benchmarks.pas [REQUESTS]

The record is the 40-resource benchmark record (``benchmarks.record40``); the PAS Bundle is built
from the same order-sign request (``tests/pas/bundles.py``: the draft order as the requested
service, the record as supporting information). Sequential requests on one app, SQLite under a
temporary directory; for each door the p50 / p90 / mean server time and the resulting requests
per second of one process:

- ``order-sign``: the CDS Hooks request with the record in prefetch;
- ``$submit (new)``: a new Claim identifier every time, so each is decided and stored
  (a committed insert before the answer);
- ``$submit (resend)``: the same Bundle again: the stored answer (idempotency), no evaluation;
- ``$inquire``: query by example on the member id, the NPIs and an authorization number, among
  all the submissions above (the same member): one match.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import httpx

from benchmarks.record40 import record40
from cds.app import create_app
from cds.pas.claim import AUTHORIZATION_NUMBER
from cds.settings import Settings
from tests.pas.bundles import pas_bundle

HEADERS = {"Content-Type": "application/fhir+json"}


async def _measure(
    client: httpx.AsyncClient, path: str, bodies: Callable[[int], bytes], n: int
) -> list[float]:
    times = []
    for i in range(n + 5):
        body = bodies(i)
        started = time.perf_counter()
        response = await client.post(path, content=body, headers=HEADERS)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code} {response.text[:300]}")
        if i >= 5:  # the first calls warm caches
            times.append(elapsed)
    return times


def _report(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    mean = statistics.fmean(times)
    print(
        f"{name:18s} p50 {statistics.median(times):6.2f} ms  p90 {p90:6.2f} ms  "
        f"mean {mean:6.2f} ms  ~{1000 / mean:6.0f} req/s (1 process, sequential)"
    )


async def main(n: int) -> None:
    _, _, request = record40()
    now = "2026-11-24T10:00:00Z"
    template = json.dumps(pas_bundle(request, "PA-BENCH-XXXX", now))
    sign_body = json.dumps(request).encode()

    def fresh(i: int) -> bytes:
        return template.replace("PA-BENCH-XXXX", f"PA-BENCH-{i:06d}").encode()

    resend = fresh(999_999)
    inquiry = json.loads(template)
    inquiry["entry"][0]["resource"]["identifier"][0]["value"] = "INQ-BENCH"
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(database_url=f"sqlite:///{tmp}/bench.sqlite3"))
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
                print(
                    f"record: 40 resources; PAS Bundle {len(resend)} bytes, order-sign {len(sign_body)} bytes"
                )
                _report(
                    "order-sign",
                    await _measure(client, "/cds-services/dli-order-sign", lambda i: sign_body, n),
                )
                _report("$submit (new)", await _measure(client, "/fhir/Claim/$submit", fresh, n))
                _report(
                    "$submit (resend)", await _measure(client, "/fhir/Claim/$submit", lambda i: resend, n)
                )
                answer = (await client.post("/fhir/Claim/$submit", content=resend, headers=HEADERS)).json()
                number = answer["entry"][0]["resource"]["preAuthRef"]  # the inquiry asks for this one
                inquiry["entry"][0]["resource"]["extension"] = [
                    {"url": AUTHORIZATION_NUMBER, "valueString": number}
                ]
                inquiry_body = json.dumps(inquiry).encode()
                _report("$inquire", await _measure(client, "/fhir/Claim/$inquire", lambda i: inquiry_body, n))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
