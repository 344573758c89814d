"""Benchmark: how fast the audit writer thread stores rows while the event loop is busy.

A worker near its limit keeps the interpreter busy; the writer thread then gets the interpreter
lock back only at the switch interval (5 ms) each time it releases it. This measures rows
written per second by the writer's own path (``Database._insert``: multi-row statements)
beside the driver's plain ``executemany`` of the same rows (it steps, and releases the lock, once
per row), while a second thread spins and once with no competition.

A worker answers about 500 order-sign requests a second at most (``benchmarks.service``), one
audit row each: the writer must store well above that while the loop is saturated.

Then memory: the writer's batches vary in size, so each is a different multi-row statement; the
process's resident memory is sampled over 300 batches of 150-300 rows (flat: the SQLite
driver's statement cache, which kept each statement's bound responses, is off).

Run: ``.venv/bin/python -m benchmarks.audit [SECONDS] [DATABASE_URL]`` (default 3 s per
measurement, a temporary SQLite file).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert

from benchmarks.soak import _rss_kib
from cds.db import Database, audit

BATCH = 250  # rows gathered in one writer interval (0.5 s) at ~500 requests a second


def _row(n: int) -> dict[str, Any]:
    return {
        "at": dt.datetime.now(dt.UTC),
        "service": "dli-order-sign",
        "endpoint": "order-sign",
        "hook_instance": f"hook-{n}",
        "client_iss": None,
        "patient_id": "bench",
        "orders": '[{"order": "ServiceRequest/1", "outcome": "criteria-met"}]',
        "status": 200,
        "latency_ms": 1.9,
        "response": "x" * 5000,  # about the size of an order-sign answer
    }


def _rate(write: Callable[[list[dict[str, Any]]], None], seconds: float, busy: bool) -> float:
    stop = threading.Event()

    def spin() -> None:  # pure-Python work that never releases the lock by itself
        while not stop.is_set():
            sum(range(2000))

    spinner = threading.Thread(target=spin, daemon=True)
    if busy:
        spinner.start()
    written = 0
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < seconds:
            write([_row(written + i) for i in range(BATCH)])
            written += BATCH
    finally:
        stop.set()
        if busy:
            spinner.join()
    return written / (time.perf_counter() - start)


def _memory(database: Database) -> list[int]:
    sizes = random.Random(7)
    samples = [_rss_kib(os.getpid()) // 1024]
    for n in range(300):
        database._insert([_row(i) for i in range(sizes.randint(150, 300))])
        if n % 60 == 59:
            samples.append(_rss_kib(os.getpid()) // 1024)
    return samples


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    with tempfile.TemporaryDirectory() as folder:
        url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{folder}/audit.sqlite3"
        database = Database(url)
        baseline = Database(url)  # the same database, many-row inserts left to the driver
        baseline.engine.dialect.use_insertmanyvalues_wo_returning = False

        def executemany(rows: list[dict[str, Any]]) -> None:
            with baseline.engine.begin() as conn:
                conn.execute(insert(audit), rows)

        try:
            for busy in (False, True):
                label = "event loop busy" if busy else "idle interpreter"
                ours = _rate(database._insert, seconds, busy)
                plain = _rate(executemany, seconds, busy)
                print(f"{label:>17}: writer {ours:8,.0f} rows/s   executemany {plain:8,.0f} rows/s")
            samples = _memory(database)
            print(f"resident memory over 300 batches of 150-300 rows (MiB): {samples}")
        finally:
            database.close()
            baseline.close()


if __name__ == "__main__":
    main()
