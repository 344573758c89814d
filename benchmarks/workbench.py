"""Server time of each workbench page on the examples, in process (ASGI, no network).

    .venv/bin/python -m benchmarks.workbench [repeats]

Prints p50 and max per page; the issue's bound is 100 ms a page.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from cds.app import create_app
from cds.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[1] / "fhir-examples"


async def main(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.sqlite3", workbench=True)
        app = create_app(settings)
        names = sorted(p.name for p in EXAMPLES.iterdir() if (p / "request.json").is_file())
        paths = ["/workbench/", "/workbench/activity"] + [f"/workbench/examples/{n}" for n in names]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
            worst = 0.0
            for path in paths:
                times = []
                for _ in range(repeats + 1):
                    started = time.perf_counter()
                    response = await client.get(path)
                    times.append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
                times = times[1:]  # the first call warms caches
                worst = max(worst, max(times))
                print(f"{path:70s} p50 {statistics.median(times):7.2f} ms  max {max(times):7.2f} ms")
            print(f"worst page: {worst:.2f} ms (bound 100 ms)")
        app.state.database.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
