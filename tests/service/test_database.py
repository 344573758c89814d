"""The database works the same on SQLite (embedded default) and on a real PostgreSQL server
that the test starts (Debian's package, installed by scripts/test.sh when missing)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from cds.db import Database
from tests import postgres_server


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    if not postgres_server.available():
        pytest.fail("PostgreSQL is not installed: scripts/test.sh installs Debian's postgresql")
    with postgres_server.postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        f"sqlite:///{tmp_path / 'db.sqlite3'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    db = Database(url, journal_dir=tmp_path / "journal")
    yield db
    with db.engine.begin() as conn:
        from cds.db import metadata

        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    db.close()


def test_feedback_round_trip(database: Database) -> None:
    n = database.record_feedback(
        "dli-order-sign",
        [
            {
                "card": "u1",
                "outcome": "overridden",
                "outcomeTimestamp": "2026-11-24T10:00:00Z",
                "overrideReason": {"reason": {"system": "s", "code": "c"}, "userComment": "why"},
            }
        ],
    )
    assert n == 1
    (row,) = database.feedback_rows()
    assert row["card"] == "u1" and row["override_code"] == "s|c" and row["override_comment"] == "why"


def test_audit_write_query_and_retention(database: Database) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    for at, patient in ((old, "p-old"), (dt.datetime.now(dt.UTC), "p-new")):
        database.audit_log.record_blocking(
            {
                "at": at,
                "service": "dli-order-sign",
                "endpoint": "order-sign",
                "hook_instance": "h",
                "client_iss": None,
                "patient_id": patient,
                "orders": None,
                "status": 200,
                "latency_ms": 1.5,
                "response": '{"cards": []}',
            }
        )
    assert {r["patient_id"] for r in database.audit_rows()} == {"p-old", "p-new"}
    assert [r["patient_id"] for r in database.audit_rows(patient_id="p-new")] == ["p-new"]
    assert database.purge(retention_days=5) == 1
    assert [r["patient_id"] for r in database.audit_rows()] == ["p-new"]


def test_replay_store(database: Database) -> None:
    assert database.remember_jti("iss|j1", 2000.0, now=1000.0) is True
    assert database.remember_jti("iss|j1", 2000.0, now=1500.0) is False
    assert database.remember_jti("iss|j1", 4000.0, now=3000.0) is True  # expired entries are forgotten


def test_concurrent_rows_share_commits_and_are_written_whole(database: Database) -> None:
    """Many rows handed over at once (more than one multi-row statement holds) are written
    whole in shared commits, rows missing optional columns included (stored as NULL)."""
    count = 1207
    now = dt.datetime.now(dt.UTC)
    commits = 0

    def count_commits(_conn: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(database.engine, "commit", count_commits)

    async def record_all() -> None:
        entries = []
        for n in range(count):
            entry = {
                "at": now,
                "service": "dli-order-sign",
                "endpoint": "order-sign",
                "patient_id": f"p-{n}",
                "status": 200,
                "latency_ms": 1.0,
            }
            if n % 2:
                entry |= {"hook_instance": f"h-{n}", "orders": "[]", "response": '{"cards": []}'}
            entries.append(entry)
        await asyncio.gather(*(database.audit_log.record(entry) for entry in entries))

    try:
        asyncio.run(record_all())
    finally:
        event.remove(database.engine, "commit", count_commits)
    rows = database.audit_rows(limit=count + 10)
    assert sorted(int(r["patient_id"][2:]) for r in rows) == list(range(count))
    assert commits < count / 10  # group commit: far fewer commits than rows
    by_patient = {r["patient_id"]: r for r in rows}
    assert by_patient["p-1"]["hook_instance"] == "h-1" and by_patient["p-1"]["response"] == '{"cards": []}'
    assert by_patient["p-2"]["hook_instance"] is None and by_patient["p-2"]["client_iss"] is None
    assert len({r["entry_key"] for r in rows}) == count


def _entry(patient: str) -> dict[str, object]:
    return {
        "at": dt.datetime.now(dt.UTC),
        "service": "dli-order-sign",
        "endpoint": "order-sign",
        "patient_id": patient,
        "status": 200,
        "latency_ms": 1.0,
    }


def test_a_recorded_row_is_stored_when_record_returns(database: Database) -> None:
    database.audit_log.record_blocking(_entry("p-durable"))
    assert [r["patient_id"] for r in database.audit_rows()] == ["p-durable"]
    database.close()
    reopened = Database(
        database.engine.url.render_as_string(hide_password=False),
        journal_dir=database.audit_log._journal.folder,
    )
    try:
        assert [r["patient_id"] for r in reopened.audit_rows()] == ["p-durable"]
    finally:
        reopened.close()


def test_a_database_outage_goes_to_the_journal_and_is_replayed_once(database: Database) -> None:
    """While the database refuses audit rows, each call's row is fsynced in the journal before
    ``record`` returns; once the database takes rows again the journal is replayed, each row
    exactly once, and the journal file is removed."""
    down = threading.Event()
    down.set()

    def refuse(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if down.is_set() and statement.upper().replace(" OR IGNORE", "").lstrip().startswith(
            "INSERT INTO AUDIT"
        ):
            raise RuntimeError("database unreachable (test)")

    event.listen(database.engine, "before_cursor_execute", refuse)
    try:
        patients = [f"p-outage-{i}" for i in range(3)]
        for patient in patients:
            database.audit_log.record_blocking(_entry(patient))
        status = database.audit_log.status()
        assert status == {"database": "unreachable", "waiting": 3, "journaled": 3}
        journal = database.audit_log._journal.folder
        assert len(list(journal.glob("*.journal"))) == 1
        down.clear()
        for _ in range(1000):  # the writer probes with backoff (at most 5 s apart)
            if database.audit_log.waiting == 0:
                break
            threading.Event().wait(0.02)
    finally:
        event.remove(database.engine, "before_cursor_execute", refuse)
    rows = database.audit_rows(limit=100)
    assert sorted(r["patient_id"] for r in rows) == patients
    assert database.audit_log.status() == {"database": "reachable", "waiting": 0, "journaled": 0}
    assert list(journal.glob("*.journal")) == []


def test_an_entry_without_a_required_column_is_refused_at_once(database: Database) -> None:
    entry = _entry("p-incomplete")
    del entry["status"]
    with pytest.raises(ValueError, match="without status"):
        database.audit_log.record_blocking(entry)
    assert database.audit_rows() == []


def test_strings_a_database_refuses_are_cleaned_not_left_to_block_the_writer(database: Database) -> None:
    """A NUL (PostgreSQL refuses it in text) or a lone surrogate (no driver encodes it) in a
    request's hookInstance must not fail its batch, nor the journal's replay."""
    entry = _entry("p-\x00-nul") | {"hook_instance": "h\x00" + "x" * 300, "client_iss": "iss-\ud800"}
    database.audit_log.record_blocking(entry)
    (row,) = database.audit_rows()
    assert row["patient_id"] == "p-\ufffd-nul" and row["client_iss"] == "iss-?"
    assert row["hook_instance"] == "h\ufffd" + "x" * 198  # cut to the column's 200
