"""The three hooks on one record, in process (ASGI, no network): order-sign, order-dispatch (the
order in the prefetch) and order-select, each over HTTP through the same decision core.

    .venv/bin/python -m benchmarks.hooks [requests]

Prints p50 and p90 per hook; the doors should cost alike (the adapters are thin).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from cds.app import create_app
from cds.settings import Settings
from tests.service.hook_shapes import dispatch_request, select_request

EXAMPLE = Path(__file__).resolve().parents[1] / "fhir-examples" / "01-meets-aml-relapse-prevention"


async def main(count: int) -> None:
    sign = json.loads((EXAMPLE / "request.json").read_text())
    bodies: dict[str, dict[str, Any]] = {
        "dli-order-sign": sign,
        "dli-order-dispatch": dispatch_request(sign),
        "dli-order-select": select_request(sign),
    }
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(database_url=f"sqlite:///{tmp}/bench.sqlite3"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
            for _ in range(3):  # interleaved rounds: a busy machine slows every door alike
                for service, body in bodies.items():
                    payload = json.dumps(body).encode()
                    headers = {"Content-Type": "application/json"}
                    times = []
                    for _ in range(count):
                        started = time.perf_counter()
                        response = await client.post(
                            f"/cds-services/{service}", content=payload, headers=headers
                        )
                        times.append((time.perf_counter() - started) * 1000)
                        response.raise_for_status()
                    times.sort()
                    p90 = times[int(len(times) * 0.9)]
                    print(f"{service:20s} p50 {statistics.median(times):6.2f} ms  p90 {p90:6.2f} ms")
        app.state.database.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
