"""Soak: the order-sign service at half its measured peak for 10 minutes, on loopback.

Starts the service as ``dli-cds serve`` runs it (uvicorn, 2 workers; ``benchmarks.service._start``), measures the peak with wrk for 15 s, then drives half that
rate with a paced Python client (4 connections, fixed schedule, no backlog) for the soak time,
sampling the workers' resident memory every 30 s. Reports requests, errors (any non-200) and
the memory series; passes when there are 0 errors and memory is flat (last sample within 10 %
of the sample after warm-up).

Run: ``.venv/bin/python -m benchmarks.soak [MINUTES]`` (default 10). Loopback only; bounded in
time; stops by itself.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.record40 import record40
from benchmarks.service import SERVICE, _free_port, _start, _stop, _wrk


def _rss_kib(pid: int) -> int:
    total = 0
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid] + [int(p) for p in children.read_text().split()] if children.exists() else [pid]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total


async def _drive(port: int, body: bytes, rate: float, seconds: float, pid: int) -> tuple[int, int, list[int]]:
    """Four connections, each sending its share of ``rate`` on a fixed schedule (no backlog:
    a request that is late is sent at once, never queued behind others)."""
    counts = {"sent": 0, "errors": 0}
    memory: list[int] = [_rss_kib(pid)]
    start = time.monotonic()
    connections = 4
    interval = connections / rate

    async def sampler() -> None:
        while time.monotonic() - start < seconds:
            await asyncio.sleep(30)
            memory.append(_rss_kib(pid))

    async def worker(offset: float) -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            n = 0
            while (due := start + offset + n * interval) - start < seconds:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                n += 1
                counts["sent"] += 1
                try:
                    response = await client.post(
                        SERVICE, content=body, headers={"Content-Type": "application/json"}
                    )
                    if response.status_code != 200:
                        counts["errors"] += 1
                except httpx.HTTPError:
                    counts["errors"] += 1

    sampling = asyncio.create_task(sampler())
    await asyncio.gather(*(worker(i * interval / connections) for i in range(connections)))
    sampling.cancel()
    memory.append(_rss_kib(pid))
    return counts["sent"], counts["errors"], memory


def main() -> None:
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    _, _, request = record40()
    body = json.dumps(request).encode()
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        proc = _start(2, port, Path(tmp))
        try:
            peak = _wrk(port, SERVICE, body, 15, Path(tmp))
            rate = peak / 2
            print(f"peak {peak:.0f} req/s; soaking at {rate:.0f} req/s for {minutes:g} min")
            sent, errors, memory = asyncio.run(_drive(port, body, rate, minutes * 60, proc.pid))
        finally:
            _stop(proc)
    print(f"requests {sent}, errors {errors}")
    print("RSS KiB (every 30 s): " + ", ".join(str(m) for m in memory))
    baseline = memory[1] if len(memory) > 2 else memory[0]
    growth = (memory[-1] - baseline) / baseline if baseline else 0.0
    print(f"memory growth after warm-up: {growth * 100:.1f} % (flat: within 10 %)")
    sys.exit(0 if errors == 0 and growth < 0.10 else 1)


if __name__ == "__main__":
    main()
