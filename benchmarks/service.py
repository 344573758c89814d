"""Benchmark: the whole order-sign path over HTTP, with a 40-resource record in prefetch.

Measures, in one run: single-request latency (sequential requests on one keep-alive
connection, ``wrk -c1 --latency``) and throughput at 10 connections with 1 and 2 workers (wrk, from Debian's package),
beside a parse-only endpoint (the same body read, parsed and validated, no evaluation:
``benchmarks/parse_app.py``) and the discovery endpoint.
Targets (issue 3): ≥ 1,000 req/s on 2 workers, p50 ≤ 3 ms for a single request.

Run: ``.venv/bin/python -m benchmarks.service [SECONDS]`` (installs wrk with apt-get if missing).
Loopback only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.record40 import record40

ROOT = Path(__file__).resolve().parents[1]
SERVICE = "/cds-services/dli-order-sign"
PARSE_ONLY = "/bench/parse-only"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(workers: int, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """The service as ``dli-cds serve`` runs it (uvicorn, same settings), plus the parse-only
    endpoint of ``benchmarks/parse_app.py``."""
    env = dict(
        os.environ, DLI_CDS_DATABASE_URL=f"sqlite:///{workdir}/bench.sqlite3", DLI_CDS_LOG_LEVEL="warning"
    )
    return serve("benchmarks.parse_app:app", port, workers, env, ROOT)


def serve(app: str, port: int, workers: int, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """uvicorn serving ``app`` on 127.0.0.1:``port`` in its own process group (``_stop`` ends it),
    run from ``cwd`` (``-m`` puts that folder first on sys.path: its ``cds`` is the one served);
    returns once the discovery endpoint answers."""
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "uvicorn", app, "--host", "127.0.0.1"]
        + ["--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the service did not start")


def ensure_wrk() -> None:
    """Install wrk (Debian's package) when it is missing."""
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def _latency(port: int, path: str, body: bytes, seconds: int, workdir: Path) -> tuple[float, float]:
    """p50 and p90 of sequential requests on one keep-alive connection (``wrk -c1 --latency``:
    a C client, so the client's own cost stays out of the numbers)."""
    out = _run_wrk(port, path, body, seconds, workdir, connections=1, latency=True)
    found = {
        pct: _ms(value, unit)
        for pct, value, unit in re.findall(r"^\s+(50|90)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    return found["50"], found["90"]


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _run_wrk(
    port: int,
    path: str,
    body: bytes | None,
    seconds: int,
    workdir: Path,
    *,
    connections: int,
    latency: bool = False,
) -> str:
    script = workdir / "post.lua"
    if body is not None:
        (workdir / "body.json").write_bytes(body)
        script.write_text(
            'local f = io.open("' + str(workdir / "body.json") + '", "rb")\n'
            'wrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
    threads = min(2, connections)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    if latency:
        cmd.append("--latency")
    if body is not None:
        cmd += ["-s", str(script)]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} error responses under load")
    return out


def _wrk(port: int, path: str, body: bytes | None, seconds: int, workdir: Path) -> float:
    out = _run_wrk(port, path, body, seconds, workdir, connections=10)
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    ensure_wrk()
    _, _, request = record40()
    body = json.dumps(request).encode()
    print(f"request: {len(body)} bytes, 40 resources in prefetch, 1 DLI order; wrk -c10 for {seconds} s")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for workers in (1, 2):
            port = _free_port()
            proc = _start(workers, port, workdir)
            try:
                if workers == 1:
                    for name, path in (("order-sign", SERVICE), ("parse-only", PARSE_ONLY)):
                        p50, p90 = _latency(port, path, body, seconds, workdir)
                        print(f"single request, {name} (1 worker): p50 {p50:.2f} ms, p90 {p90:.2f} ms")
                    print("target: order-sign p50 ≤ 3 ms")
                floor = _wrk(port, "/cds-services", None, seconds, workdir)
                parse = _wrk(port, PARSE_ONLY, body, seconds, workdir)
                rps = _wrk(port, SERVICE, body, seconds, workdir)
                print(
                    f"{workers} worker(s): order-sign {rps:.0f} req/s; parse-only {parse:.0f} req/s; "
                    f"discovery {floor:.0f} req/s"
                )
            finally:
                _stop(proc)
    print("target: ≥ 1,000 req/s on 2 workers")


if __name__ == "__main__":
    main()
