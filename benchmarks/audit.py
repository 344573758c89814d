"""Benchmark: what a durable audit trail costs the order-sign path, before and after issue 17.

Before: the code at revision ``--before`` (default 4b0243f, the last with the background writer:
rows gathered in memory for 0.5 s, answers never waited, a SIGKILL lost 2-4.5 % of them),
extracted with ``git archive`` into a temporary folder and served from there. After: this tree,
where each answer waits for its row's group commit. Both run the same way on the same machine in
the same run: uvicorn with 2 workers on a fresh SQLite database, ``wrk -t2 -c10 --latency`` on
order-sign with the 40-resource record of ``benchmarks/record40.py``, giving requests/s and the
p50 and p99 latency, and the server's CPU time per request (its processes' user and system time
over the run: unlike the others it does not depend on what else the box runs meanwhile).
Configurations are interleaved, their order rotated round by round, so the box's drift hits all.

After is measured with SQLite ``synchronous`` NORMAL (the default: a committed row survives a
process crash) and FULL (a power loss too), and with group-commit windows: 0 (commit at once; the
rows arriving during a commit form the next group) and a held window of 1 and 3 ms.

Run: ``.venv/bin/python -m benchmarks.audit [SECONDS] [--rounds N] [--before REV] [--quick]``
(default 10 s per measurement, 2 rounds; ``--quick``: before and the default only; installs wrk
with apt-get if missing). Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.record40 import record40
from benchmarks.service import _free_port, _ms, _run_wrk, _stop, ensure_wrk, serve

ROOT = Path(__file__).resolve().parents[1]
SERVICE = "/cds-services/dli-order-sign"
BEFORE = "4b0243f"
WORKERS = 2


@dataclass(frozen=True)
class Config:
    name: str
    tree: str  # "before" or "after"
    env: tuple[tuple[str, str], ...] = ()


CONFIGS = (
    Config("before (background writer, 0.5 s)", "before"),
    Config("after: NORMAL, window 0 (default)", "after", (("DLI_CDS_SQLITE_SYNCHRONOUS", "NORMAL"),)),
    Config("after: FULL, window 0", "after", (("DLI_CDS_SQLITE_SYNCHRONOUS", "FULL"),)),
    Config(
        "after: NORMAL, window 1 ms",
        "after",
        (("DLI_CDS_SQLITE_SYNCHRONOUS", "NORMAL"), ("DLI_CDS_AUDIT_GROUP_WINDOW_SECONDS", "0.001")),
    ),
    Config(
        "after: NORMAL, window 3 ms",
        "after",
        (("DLI_CDS_SQLITE_SYNCHRONOUS", "NORMAL"), ("DLI_CDS_AUDIT_GROUP_WINDOW_SECONDS", "0.003")),
    ),
)


def _start(tree: Path, env_extra: dict[str, str], workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    database = workdir / f"bench-{port}.sqlite3"
    env = dict(
        os.environ,
        DLI_CDS_DATABASE_URL=f"sqlite:///{database}",
        DLI_CDS_AUDIT_JOURNAL_DIR=str(workdir / f"journal-{port}"),
        DLI_CDS_LOG_LEVEL="warning",
        **env_extra,
    )
    return serve("cds.asgi:app", port, WORKERS, env, tree), port


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of the server: the uvicorn process and its workers (all threads)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid] + ([int(p) for p in children.read_text().split()] if children.exists() else [])
    ticks = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _measure(pid: int, port: int, body: bytes, seconds: int, workdir: Path) -> tuple[float, ...]:
    """Requests/s, p50 and p99 (ms) at 10 connections, the server's CPU per request (ms: unlike
    the others it does not depend on what else the box runs meanwhile), and the p50 (ms) of a
    single request at a time (``wrk -c1``)."""
    single = _run_wrk(port, SERVICE, body, max(2, seconds // 2), workdir, connections=1, latency=True)
    single_p50 = _ms(*re.findall(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", single, re.M)[0])
    cpu = _cpu_seconds(pid)
    out = _run_wrk(port, SERVICE, body, seconds, workdir, connections=10, latency=True)
    cpu = _cpu_seconds(pid) - cpu
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    assert rps and count, out
    found = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    return float(rps.group(1)), found["50"], found["99"], cpu * 1000 / int(count.group(1)), single_p50


# The audit path alone, in one process of either tree: CONCURRENCY coroutines each hand over a row
# the size of an order-sign answer at a time (after: and await its group commit; before: the
# deque append, the writer thread storing rows every 0.5 s), then everything is flushed. The CPU
# time of the whole process per row is the audit trail's cost to a worker.
PATH_SCRIPT = """
import asyncio, datetime as dt, statistics, sys, tempfile, time
from cds.db import Database
rows, concurrency, synchronous, window = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
def row(n):
    return {"at": dt.datetime.now(dt.UTC), "service": "dli-order-sign", "endpoint": "order-sign",
            "hook_instance": f"hook-{n}", "patient_id": "bench", "status": 200, "latency_ms": 1.9,
            "orders": '[{"order": "ServiceRequest/1", "outcome": "criteria-met"}]', "response": "x" * 5000}
waits = []
with tempfile.TemporaryDirectory() as folder:
    url = f"sqlite:///{folder}/audit.sqlite3"
    durable = hasattr(Database, "from_settings")
    database = (
        Database(url, sqlite_synchronous=synchronous, group_window_seconds=window) if durable else Database(url)
    )
    async def client(first):
        for n in range(first, rows, concurrency):
            started = time.perf_counter()
            if durable:
                await database.audit_log.record(row(n))
            else:
                database.audit(row(n))
                await asyncio.sleep(0)
            waits.append(time.perf_counter() - started)
    cpu, wall = time.process_time(), time.perf_counter()
    async def main():
        await asyncio.gather(*(client(i) for i in range(concurrency)))
    asyncio.run(main())
    if not durable:
        database.flush()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    database.close()
    print(cpu / rows * 1e6, rows / wall, statistics.median(waits) * 1000)
"""


def _path_cost(tree: Path, rows: int, concurrency: int, synchronous: str, window: float) -> tuple[float, ...]:
    """CPU µs per row, rows/s and the median wait of a caller (ms) of the audit path alone
    (``PATH_SCRIPT``) in ``tree``."""
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", PATH_SCRIPT, str(rows), str(concurrency), synchronous]
        + [str(window)],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, DLI_CDS_LOG_LEVEL="warning"),
    ).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def _extract(revision: str, folder: Path) -> Path:
    tree = folder / "before"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "archive", revision, "cds", "cql"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.audit")
    parser.add_argument("seconds", nargs="?", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", default=BEFORE, help="the git revision measured as before")
    parser.add_argument("--quick", action="store_true", help="before and the default configuration only")
    parser.add_argument("--path-only", action="store_true", help="only the audit path in process")
    args = parser.parse_args()
    ensure_wrk()
    _, _, request = record40()
    body = json.dumps(request).encode()
    configs = CONFIGS[:2] if args.quick else CONFIGS
    results: dict[str, list[tuple[float, ...]]] = {c.name: [] for c in configs}
    print(
        f"order-sign, 40-resource record, {WORKERS} workers, SQLite, wrk -t2 -c10 -d{args.seconds}s, "
        f"{args.rounds} rounds interleaved; before = {args.before}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        trees = {"before": _extract(args.before, workdir), "after": ROOT}
        print("the audit path alone, in process, 3000 rows of 5 kB (median of 3 runs):")
        for label, tree, synchronous, window, concurrency in (
            ("before (background writer)", "before", "-", 0.0, 5),
            ("after, NORMAL (default)", "after", "NORMAL", 0.0, 5),
            ("after, FULL", "after", "FULL", 0.0, 5),
            ("after, NORMAL, window 1 ms", "after", "NORMAL", 0.001, 5),
            ("after, NORMAL, window 3 ms", "after", "NORMAL", 0.003, 5),
            ("before (background writer)", "before", "-", 0.0, 20),
            ("after, NORMAL (default)", "after", "NORMAL", 0.0, 20),
            ("after, NORMAL, window 1 ms", "after", "NORMAL", 0.001, 20),
        ):
            costs = [_path_cost(trees[tree], 3000, concurrency, synchronous, window) for _ in range(3)]
            cpu, rate, wait = (statistics.median(c[i] for c in costs) for i in range(3))
            print(
                f"  {concurrency:2d} callers, {label:<28} CPU {cpu:5.0f} µs/row  {rate:6.0f} rows/s  "
                f"median wait {wait:6.2f} ms",
                flush=True,
            )
        if args.path_only:
            return
        for round_ in range(args.rounds):
            for config in configs[round_ % len(configs) :] + configs[: round_ % len(configs)]:  # rotated
                proc, port = _start(trees[config.tree], dict(config.env), workdir)
                try:
                    result = _measure(proc.pid, port, body, args.seconds, workdir)
                finally:
                    _stop(proc)
                results[config.name].append(result)
                rps, p50, p99, cpu, single = result
                print(
                    f"  round {round_ + 1} {config.name:<36} {rps:5.0f} req/s  p50 {p50:6.1f} ms  "
                    f"p99 {p99:6.1f} ms  CPU {cpu:4.2f} ms/req  single p50 {single:5.2f} ms",
                    flush=True,
                )
    print("median over rounds:")
    base = statistics.median(r[0] for r in results[configs[0].name])
    for config in configs:
        rps = statistics.median(r[0] for r in results[config.name])
        p50 = statistics.median(r[1] for r in results[config.name])
        p99 = statistics.median(r[2] for r in results[config.name])
        cpu = statistics.median(r[3] for r in results[config.name])
        single = statistics.median(r[4] for r in results[config.name])
        change = f"{(rps / base - 1) * 100:+5.1f} %" if config is not configs[0] else "       "
        print(
            f"  {config.name:<36} {rps:5.0f} req/s {change}  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
            f"CPU {cpu:4.2f} ms/req  single p50 {single:5.2f} ms"
        )
    print("aim: no more than 10 % below before at 2 workers", file=sys.stderr)


if __name__ == "__main__":
    main()
