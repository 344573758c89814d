"""The database: feedback, the audit log of every call, and the JWT replay store.

The only module that imports SQLAlchemy. SQLite (embedded default, WAL) or PostgreSQL through a
URL; several workers or hosts share one PostgreSQL. Audit rows reach the database through
``Database.audit_log`` (``cds/audit_log.py``: group commit, durable before the answer, a local
journal while the database is down); this module gives it ``insert_audit``, which stores a batch
in one transaction and ignores rows whose ``entry_key`` it already has, so a replay never
duplicates a row.

Rows are inserted as multi-row ``INSERT … VALUES`` statements (SQLAlchemy's "insertmanyvalues",
turned on for inserts without RETURNING too), not as the driver's ``executemany``: that steps the
statement once per row and releases the interpreter lock around every step, and while a worker's
event loop is busy each release costs the writer a whole switch interval (5 ms).

SQLite runs in WAL mode with ``synchronous`` from the settings (``NORMAL`` by default: a committed
row survives a process crash; ``FULL`` fsyncs the log at each commit, so it survives a power loss
too; the README's audit section says what each can lose).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
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
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from cds.audit_journal import AuditJournal
from cds.audit_log import AuditLog
from cds.errors import StorageUnavailable
from cds.settings import Settings

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
    # The idempotency key the audit log gives every row (cds/audit_log.py): a replayed row whose
    # key is already stored is skipped. NULL in rows written before keys existed.
    Column("entry_key", String(32), unique=True),
    # JSON, per decided order: [{"outcome": ..., "criteria": {"I.A": "met" | "not-met" | "unknown",
    # ...}}] (cds.hook_response.criteria_entry): labels and statuses only, never evidence, tokens
    # or resources. "[]": a call that decided no order; NULL: not recorded (an error, a call that
    # decides nothing, or a row written before the column existed).
    Column("criteria", Text),
)
replay = Table(
    "jwt_replay",
    metadata,
    Column("key", String(600), primary_key=True),
    Column("expires_at", Float, nullable=False, index=True),
)


AUDIT_COLUMNS = tuple(c.name for c in audit.columns if c.name != "id")
AUDIT_REQUIRED = tuple(c.name for c in audit.columns if not c.nullable and c.name != "id")
_AUDIT_LENGTHS = {
    c.name: c.type.length for c in audit.columns if isinstance(c.type, String) and c.type.length
}
SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


def _sqlite_pragmas(synchronous: str) -> Any:
    def apply(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    return apply


def default_journal_dir(url: str) -> Path:
    """Beside the SQLite file; for a server database, ``var/audit-journal`` in the project."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        database_file = Path(url.removeprefix("sqlite:///"))
        return database_file.with_name(database_file.name + ".audit-journal")
    return Path(__file__).resolve().parents[1] / "var" / "audit-journal"


def prepare_audit_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry as the table takes it, on the caller's side, so that no row can hold up the
    writer or its replay: a missing required column is a ``ValueError`` at once (SQLite's INSERT
    OR IGNORE would even drop the row silently); strings lose what a database refuses (NUL
    characters, which PostgreSQL rejects, and lone surrogates, which no driver encodes: both can
    come from a request, e.g. a hookInstance) and are cut to their column's length."""
    missing = [name for name in AUDIT_REQUIRED if entry.get(name) is None]
    if missing:
        raise ValueError(f"audit entry without {', '.join(missing)}")
    prepared = dict(entry)
    for name, value in entry.items():
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            value = value.replace("\x00", "\ufffd")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
        length = _AUDIT_LENGTHS.get(name)
        prepared[name] = value[:length] if length else value
    return prepared


class Database:
    def __init__(
        self,
        url: str,
        *,
        journal_dir: Path | None = None,
        journal_max_bytes: int = 1 << 30,
        sqlite_synchronous: str = "NORMAL",
        group_window_seconds: float = 0.0,
        retry_seconds: float = 0.5,
    ) -> None:
        if sqlite_synchronous.upper() not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"sqlite_synchronous must be one of {', '.join(SQLITE_SYNCHRONOUS)}")
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # SQLite: no prepared-statement cache in the driver. It keeps every cached statement
        # with its last bound values, and the audit writer's multi-row INSERTs differ by their
        # number of rows: up to 128 of them, each holding a batch of stored responses, grew a
        # worker by ~180 MB. Preparing anew costs microseconds.
        # PostgreSQL: a bounded connect timeout, so an unreachable host sends rows to the journal
        # within seconds rather than after the operating system's TCP timeout.
        options: dict[str, Any] = (
            {"connect_args": {"cached_statements": 0}}
            if url.startswith("sqlite")
            else {"connect_args": {"connect_timeout": 3}}
            if url.startswith("postgresql")
            else {}
        )
        self.engine: Engine = create_engine(url, pool_pre_ping=True, **options)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas(sqlite_synchronous.upper()))
        metadata.create_all(self.engine)
        self._add_missing_columns()
        # A documented Dialect attribute: batch many-row INSERTs into multi-row VALUES statements
        # (pages sized within the driver's bound-parameter limit) even without RETURNING.
        self.engine.dialect.use_insertmanyvalues_wo_returning = True
        # Rows already stored (by key) are skipped: SQLite's INSERT OR IGNORE (a plain INSERT to
        # SQLAlchemy, so still multi-row VALUES; its ON CONFLICT form is not), PostgreSQL's
        # ON CONFLICT DO NOTHING.
        dialect = self.engine.dialect.name
        self._insert_audit_statement = (
            postgresql.insert(audit).on_conflict_do_nothing(index_elements=["entry_key"])
            if dialect == "postgresql"
            else insert(audit).prefix_with("OR IGNORE", dialect="sqlite")
        )
        self._audit_connection: Connection | None = None  # used by the audit writer thread only
        self.audit_log = AuditLog(
            self.insert_audit,
            prepare_audit_entry,
            AuditJournal(journal_dir or default_journal_dir(url), journal_max_bytes),
            group_window_seconds=group_window_seconds,
            retry_seconds=retry_seconds,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(
            settings.database_url,
            journal_dir=settings.audit_journal_dir,
            journal_max_bytes=settings.audit_journal_max_bytes,
            sqlite_synchronous=settings.sqlite_synchronous,
            group_window_seconds=settings.audit_group_window_seconds,
            retry_seconds=settings.audit_retry_seconds,
        )

    def _add_missing_columns(self) -> None:
        """Databases created before a column existed gain it: ``entry_key`` (idempotency keys,
        with its unique index) and ``criteria`` (criterion statuses; older rows stay NULL, read
        as "not recorded")."""
        added = [
            ("entry_key", "VARCHAR(32)", "CREATE UNIQUE INDEX IF NOT EXISTS ix_audit_entry_key ON audit (entry_key)"),
            ("criteria", "TEXT", None),
        ]
        for name, kind, index in added:
            if name in self._audit_columns():
                continue
            try:
                with self.engine.begin() as conn:
                    conn.execute(text(f"ALTER TABLE audit ADD COLUMN {name} {kind}"))
                    if index is not None:
                        conn.execute(text(index))
            except DBAPIError:  # another worker starting at the same moment added it first
                if name not in self._audit_columns():
                    raise

    def _audit_columns(self) -> set[str]:
        return {c["name"] for c in inspect(self.engine).get_columns("audit")}

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
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(feedback), rows)
        except SQLAlchemyError as exc:
            raise StorageUnavailable(
                f"the feedback could not be stored: {type(exc).__name__}", "feedback"
            ) from exc
        return len(rows)

    def feedback_rows(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(feedback).order_by(feedback.c.id))]

    # ------------------------------------------------------------------ audit
    def insert_audit(self, batch: list[dict[str, Any]]) -> None:
        """Store ``batch`` in one transaction, skipping rows whose ``entry_key`` is stored; raises
        when the database does not take it (the audit log retries, then journals)."""
        # Every row carries every column (absent ones as NULL: a many-row insert binds the
        # columns of its first row); the audit log has prepared each (prepare_audit_entry).
        rows = [{name: entry.get(name) for name in AUDIT_COLUMNS} for entry in batch]
        # The writer's own connection, kept between commits: a pool checkout (with its liveness
        # ping) and check-in per commit cost more CPU than a small group's insert. Any failure
        # drops it; the next attempt (the audit log's retry) connects afresh.
        conn = self._audit_connection
        if conn is None:
            conn = self._audit_connection = self.engine.connect()
        try:
            with conn.begin():
                conn.execute(self._insert_audit_statement, rows)
        except Exception:
            self._drop_audit_connection()
            raise

    def _drop_audit_connection(self) -> None:
        conn, self._audit_connection = self._audit_connection, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # a connection already broken
                log.debug("closing the audit connection failed", exc_info=True)

    def audit_rows(
        self,
        *,
        patient_id: str | None = None,
        hook_instance: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
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
        self.audit_log.close()
        if self._audit_connection is not None:
            self._audit_connection.close()
            self._audit_connection = None
        self.engine.dispose()
