"""The database: feedback, the audit log of every call, and the JWT replay store.

The only module that imports SQLAlchemy. SQLite (embedded default, WAL) or PostgreSQL through a
URL; several workers or hosts share one PostgreSQL. Audit rows are written by a background
thread in batches so that the request path does not wait for the disk; a failed batch is retried
with backoff (``audit_waiting`` says how many rows wait), not dropped.

The writer inserts a batch as multi-row ``INSERT … VALUES`` statements (SQLAlchemy's
"insertmanyvalues", turned on for inserts without RETURNING too), not as the driver's
``executemany``: that steps the statement once per row and releases the interpreter lock around
every step, and while a worker's event loop is busy each release costs the writer a whole switch
interval (5 ms) to get the lock back — a saturated worker starved its writer (about 600 rows/s)
and the backlog grew to its cap. ``python -m benchmarks.audit`` measures both.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

log = logging.getLogger(__name__)
metadata = MetaData()

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("service", String(100), nullable=False),
    Column("card", String(200), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("outcome_timestamp", String(40), nullable=False),
    Column("override_code", String(200)),
    Column("override_comment", Text),
    Column("accepted_suggestions", Text),
)
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("service", String(100), nullable=False),
    Column("endpoint", String(100), nullable=False),
    Column("hook_instance", String(200)),
    Column("client_iss", String(500)),
    Column("patient_id", String(200), index=True),
    Column("orders", Text),  # JSON: [{"order": ref, "outcome": ..., "coverage_assertion_id": ...}]
    Column("status", Integer, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("response", Text),
)
replay = Table(
    "jwt_replay",
    metadata,
    Column("key", String(600), primary_key=True),
    Column("expires_at", Float, nullable=False, index=True),
)


# How long the writer gathers rows before one transaction. Each wake-up takes the interpreter
# lock from the busy event loop and each transaction has its fixed cost: measured per row at
# ~460-570 requests/s, the writer's CPU was 130-180 µs at 0.05 s and 70-110 µs at 0.5 s. Rows still
# gathering when the process is killed outright are lost (a graceful stop writes them).
AUDIT_INTERVAL_SECONDS = 0.5
AUDIT_RETRY_SECONDS = 0.1  # first wait after a failed write; doubles per failure
AUDIT_RETRY_MAX_SECONDS = 5.0
AUDIT_MAX_PENDING = 10000  # beyond this backlog, rows are written on the request path
AUDIT_COLUMNS = tuple(c.name for c in audit.columns if c.name != "id")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # SQLite: no prepared-statement cache in the driver. It keeps every cached statement
        # with its last bound values, and the audit writer's multi-row INSERTs differ by their
        # number of rows: up to 128 of them, each holding a batch of stored responses, grew a
        # worker by ~180 MB (``benchmarks.audit`` reports it). Preparing anew costs microseconds.
        options: dict[str, Any] = {"connect_args": {"cached_statements": 0}} if url.startswith("sqlite") else {}
        self.engine: Engine = create_engine(url, pool_pre_ping=True, **options)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)
        # A documented Dialect attribute: batch many-row INSERTs into multi-row VALUES statements
        # (pages sized within the driver's bound-parameter limit) even without RETURNING.
        self.engine.dialect.use_insertmanyvalues_wo_returning = True
        self._pending: deque[dict[str, Any]] = deque()
        self._numbers = itertools.count(1)  # rows handed to audit(); next() is atomic
        self._queued = 0
        self._written = 0
        self._done = threading.Condition()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._writer = threading.Thread(target=self._write_audit, name="audit-writer", daemon=True)
        self._writer.start()

    # ------------------------------------------------------------------ feedback
    def record_feedback(self, service: str, items: Iterable[dict[str, Any]]) -> int:
        now = dt.datetime.now(dt.UTC)
        rows = []
        for item in items:
            reason = (item.get("overrideReason") or {}).get("reason") or {}
            rows.append(
                {
                    "received_at": now,
                    "service": service,
                    "card": item["card"],
                    "outcome": item["outcome"],
                    "outcome_timestamp": item["outcomeTimestamp"],
                    "override_code": "|".join(str(reason.get(k) or "") for k in ("system", "code"))
                    if reason
                    else None,
                    "override_comment": (item.get("overrideReason") or {}).get("userComment"),
                    "accepted_suggestions": json.dumps(item.get("acceptedSuggestions"))
                    if item.get("acceptedSuggestions")
                    else None,
                }
            )
        with self.engine.begin() as conn:
            conn.execute(insert(feedback), rows)
        return len(rows)

    def feedback_rows(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(feedback).order_by(feedback.c.id))]

    # ------------------------------------------------------------------ audit
    def audit(self, entry: dict[str, Any]) -> None:
        """Hand a row to the writer thread (a deque append: nothing else on the request path)."""
        number = next(self._numbers)
        if len(self._pending) >= AUDIT_MAX_PENDING:
            log.error("audit backlog full: writing synchronously")
            if not self._insert([entry]):
                self._pending.append(entry)  # the writer retries it
        else:
            self._pending.append(entry)
        self._queued = max(self._queued, number)

    def _insert(self, batch: list[dict[str, Any]]) -> bool:
        """Write ``batch`` in one transaction; False (nothing counted written) if it failed."""
        # Every row carries every column (absent ones as NULL): a many-row insert binds the
        # columns of its first row.
        rows = [{name: entry.get(name) for name in AUDIT_COLUMNS} for entry in batch]
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(audit), rows)
        except Exception:  # the writer must survive a database hiccup
            log.exception(
                "could not write %d audit rows (%d waiting)", len(batch), len(self._pending) + len(batch)
            )
            return False
        with self._done:
            self._written += len(batch)
            self._done.notify_all()
        return True

    def _write_audit(self) -> None:
        # Wakes every AUDIT_INTERVAL_SECONDS (or when flushed) and writes what has gathered in
        # one insert: far less interpreter time taken from the requests than a row at a time.
        # A failed batch goes back to the front of the queue and is retried with exponential
        # backoff (AUDIT_RETRY_SECONDS doubling up to AUDIT_RETRY_MAX_SECONDS), so a database
        # restart delays the rows instead of dropping them.
        backoff = AUDIT_RETRY_SECONDS
        while True:
            self._wake.wait(AUDIT_INTERVAL_SECONDS)
            self._wake.clear()
            while self._pending:
                batch: list[dict[str, Any]] = []
                while self._pending and len(batch) < 500:
                    batch.append(self._pending.popleft())
                if self._insert(batch):
                    backoff = AUDIT_RETRY_SECONDS
                    continue
                self._pending.extendleft(reversed(batch))
                if self._closing.is_set():
                    log.error(
                        "closing with the database unreachable: %d audit rows not written", len(self._pending)
                    )
                    return
                self._closing.wait(backoff)
                backoff = min(backoff * 2, AUDIT_RETRY_MAX_SECONDS)
            if self._closing.is_set() and not self._pending:
                return

    @property
    def audit_waiting(self) -> int:
        """Audit rows handed over but not yet written (for health reports and logs)."""
        return len(self._pending)

    def flush(self) -> None:
        """Return once every row handed over so far is written."""
        target = self._queued
        self._wake.set()
        with self._done:
            self._done.wait_for(lambda: self._written >= target, timeout=30)

    def audit_rows(
        self,
        *,
        patient_id: str | None = None,
        hook_instance: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        self.flush()
        query = select(audit).order_by(audit.c.id.desc()).limit(limit)
        if patient_id:
            query = query.where(audit.c.patient_id == patient_id)
        if hook_instance:
            query = query.where(audit.c.hook_instance == hook_instance)
        if since:
            query = query.where(audit.c.at >= since)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def purge(self, retention_days: int) -> int:
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=retention_days)
        with self.engine.begin() as conn:
            return conn.execute(delete(audit).where(audit.c.at < cutoff)).rowcount or 0

    # ------------------------------------------------------------------ JWT replay
    def remember_jti(self, key: str, expires_at: float, now: float) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(replay).where(replay.c.expires_at < now))
                existing = conn.execute(select(replay.c.expires_at).where(replay.c.key == key)).first()
                if existing is not None:
                    return False
                conn.execute(insert(replay), [{"key": key, "expires_at": expires_at}])
        except IntegrityError:
            return False
        return True

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        self._writer.join(timeout=5)
        self.engine.dispose()
