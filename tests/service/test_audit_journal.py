"""The audit journal in process (SQLite): a database outage goes to the journal, a full journal
is a 503 with an OperationOutcome, an orphaned journal is adopted and replayed exactly once, and a
line torn by a crash is skipped. The real-server tests (SIGKILL, a stopped PostgreSQL, a file-size
limit) are in ``test_audit_crash.py``."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from cds import audit_log
from cds.app import create_app
from cds.db import Database
from cds.errors import StorageUnavailable
from tests.conftest import NOW, Client, make_settings

ROOT = Path(__file__).resolve().parents[2]
URL = "/cds-services/dli-order-sign"


class Outage:
    """Makes the database refuse audit inserts while ``down`` is set."""

    def __init__(self, database: Database, table: str = "AUDIT") -> None:
        self.down = threading.Event()
        self.down.set()
        self.engine = database.engine
        self.statement = f"INSERT INTO {table}"

    def _refuse(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if self.down.is_set() and statement.upper().replace(" OR IGNORE", "").lstrip().startswith(
            self.statement
        ):
            raise OperationalError(statement, None, ConnectionRefusedError("database unreachable (test)"))

    def __enter__(self) -> Outage:
        event.listen(self.engine, "before_cursor_execute", self._refuse)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._refuse)


def _entry(patient: str) -> dict[str, Any]:
    return {
        "at": dt.datetime.now(dt.UTC),
        "service": "dli-order-sign",
        "endpoint": "order-sign",
        "patient_id": patient,
        "status": 200,
        "latency_ms": 1.0,
        "response": "x" * 1000,
    }


def _wait_until_stored(database: Database) -> None:
    pause = threading.Event()
    for _ in range(1000):  # the writer probes with backoff, at most 5 s apart
        if database.audit_log.waiting == 0:
            return
        pause.wait(0.02)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(
        f"sqlite:///{tmp_path / 'db.sqlite3'}", journal_dir=tmp_path / "journal", retry_seconds=0.05
    )
    yield db
    db.close()


def test_a_full_journal_refuses_the_row(tmp_path: Path) -> None:
    database = Database(
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        journal_dir=tmp_path / "journal",
        journal_max_bytes=4000,
        retry_seconds=0.05,
    )
    try:
        with Outage(database):
            stored = []
            with pytest.raises(StorageUnavailable, match="limit of 4000 bytes"):
                for n in range(10):
                    database.audit_log.record_blocking(_entry(f"p-{n}"))
                    stored.append(f"p-{n}")
            assert 1 <= len(stored) < 10
            assert database.audit_log.status()["journaled"] == len(stored)
    finally:
        database.close()
    reopened = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}", journal_dir=tmp_path / "journal")
    try:
        _wait_until_stored(reopened)
        assert sorted(r["patient_id"] for r in reopened.audit_rows()) == sorted(stored)
    finally:
        reopened.close()


def test_a_call_whose_row_cannot_be_stored_is_answered_503(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, audit_journal_max_bytes=100, audit_retry_seconds=0.05)
    app = create_app(settings, clock=lambda: NOW)
    database: Database = app.state.database
    try:
        with Outage(database):
            request = (ROOT / "fhir-examples" / "23-current-smoker" / "request.json").read_bytes()
            response = Client(app).post(URL, content=request, headers={"Content-Type": "application/json"})
            assert response.status_code == 503
            body = response.json()
            assert body["resourceType"] == "OperationOutcome"
            assert body["issue"][0]["code"] == "transient" and "journal" in body["issue"][0]["diagnostics"]
            assert response.headers["retry-after"]
            health = Client(app).get("/health").json()
            assert health["status"] == "degraded" and health["audit"]["database"] == "unreachable"
    finally:
        database.close()


def test_health_counts_the_journaled_rows(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, audit_retry_seconds=0.05)
    app = create_app(settings, clock=lambda: NOW)
    database: Database = app.state.database
    client = Client(app)
    try:
        assert client.get("/health").json() == {
            "status": "ok",
            "audit": {"database": "reachable", "waiting": 0, "journaled": 0},
        }
        with Outage(database) as outage:
            request = (ROOT / "fhir-examples" / "23-current-smoker" / "request.json").read_bytes()
            answer = client.post(URL, content=request, headers={"Content-Type": "application/json"})
            assert answer.status_code == 200
            assert client.get("/health").json()["audit"] == {
                "database": "unreachable",
                "waiting": 1,
                "journaled": 1,
            }
            outage.down.clear()
            _wait_until_stored(database)
        assert client.get("/health").json()["status"] == "ok"
        (row,) = database.audit_rows()
        assert row["status"] == 200 and row["response"] == answer.text
    finally:
        database.close()


def test_feedback_that_cannot_be_stored_is_answered_503_and_audited(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), clock=lambda: NOW)
    database: Database = app.state.database
    feedback = {
        "feedback": [{"card": "c1", "outcome": "accepted", "outcomeTimestamp": "2026-11-24T10:05:00Z"}]
    }
    try:
        with Outage(database, "FEEDBACK"):
            response = Client(app).post(f"{URL}/feedback", json=feedback)
        assert response.status_code == 503 and response.json()["resourceType"] == "OperationOutcome"
        assert database.feedback_rows() == []
        (row,) = database.audit_rows()
        assert row["endpoint"] == "feedback" and row["status"] == 503
    finally:
        database.close()


def test_an_orphaned_journal_is_replayed_exactly_once(tmp_path: Path) -> None:
    """A process dies with rows in its journal; a copy of that journal stands for a replay that
    was cut short after some rows were committed. The next process adopts both files (nobody
    holds their locks) and stores every row once."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    journal = tmp_path / "journal"
    first = Database(url, journal_dir=journal, retry_seconds=0.05)
    with Outage(first):
        for n in range(5):
            first.audit_log.record_blocking(_entry(f"p-{n}"))
        first.close()  # the database still refuses: the rows stay in the journal
    (own,) = journal.glob("*.journal")
    shutil.copy(own, journal / "copy-of-a-half-replayed.journal")
    with (journal / "torn.journal").open("wb") as torn:  # a crash in the middle of a write
        torn.write(b'{"entry_key": "abc", "patient_id": "p-to')
    second = Database(url, journal_dir=journal)
    try:
        _wait_until_stored(second)
        rows = second.audit_rows()
        assert sorted(r["patient_id"] for r in rows) == [f"p-{n}" for n in range(5)]
        assert list(journal.glob("*.journal")) == []
    finally:
        second.close()


def test_a_journal_held_by_a_live_process_is_left_alone(database: Database, tmp_path: Path) -> None:
    with Outage(database):
        database.audit_log.record_blocking(_entry("p-live"))
        other = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}", journal_dir=tmp_path / "journal")
        try:
            assert other.audit_log.status()["journaled"] == 0  # locked by the first: not adopted
            other.audit_log.record_blocking(_entry("p-other"))
            assert [r["patient_id"] for r in other.audit_rows()] == ["p-other"]
        finally:
            other.close()
        assert database.audit_log.status()["journaled"] == 1


def test_a_hung_database_is_a_503_after_the_record_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement that hangs instead of failing (a network partition) holds the writer; the
    call waiting on it is refused once the record timeout passes, not left waiting for ever."""
    monkeypatch.setattr(audit_log, "RECORD_TIMEOUT_SECONDS", 0.2)
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}", journal_dir=tmp_path / "journal")
    release = threading.Event()

    def hang(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "INTO AUDIT" in statement.upper():
            release.wait(30)

    event.listen(database.engine, "before_cursor_execute", hang)
    try:
        with pytest.raises(StorageUnavailable, match="not stored within"):
            asyncio.run(database.audit_log.record(_entry("p-hung")))
    finally:
        release.set()
        event.remove(database.engine, "before_cursor_execute", hang)
    try:
        database.audit_log.record_blocking(_entry("p-after"))
        assert sorted(r["patient_id"] for r in database.audit_rows()) == ["p-after", "p-hung"]
    finally:
        database.close()
