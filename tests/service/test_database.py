"""The database works the same on SQLite (embedded default) and on a real PostgreSQL server
that the test starts (Debian's package, installed by scripts/test.sh when missing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

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
    db = Database(url)
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
        database.audit(
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


def test_audit_backlog_written_whole(database: Database) -> None:
    """A backlog longer than one writer batch (500) and than one multi-row statement is written
    whole, rows missing optional columns included (they are stored as NULL)."""
    count = 1207
    now = dt.datetime.now(dt.UTC)
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
        database.audit(entry)
    rows = database.audit_rows(limit=count + 10)
    assert sorted(int(r["patient_id"][2:]) for r in rows) == list(range(count))
    by_patient = {r["patient_id"]: r for r in rows}
    assert by_patient["p-1"]["hook_instance"] == "h-1" and by_patient["p-1"]["response"] == '{"cards": []}'
    assert by_patient["p-2"]["hook_instance"] is None and by_patient["p-2"]["client_iss"] is None


def test_close_writes_the_rows_still_gathering(database: Database) -> None:
    database.audit(
        {
            "at": dt.datetime.now(dt.UTC),
            "service": "dli-order-sign",
            "endpoint": "order-sign",
            "patient_id": "p-closing",
            "status": 200,
            "latency_ms": 1.0,
        }
    )
    database.close()  # before the writer's interval has passed
    reopened = Database(database.engine.url.render_as_string(hide_password=False))
    try:
        assert [r["patient_id"] for r in reopened.audit_rows()] == ["p-closing"]
    finally:
        reopened.close()


def test_audit_batch_survives_a_database_outage(database: Database) -> None:
    """A failed audit write is retried with backoff, not dropped: rows handed over while the
    database refuses them are written once it accepts them again, each exactly once."""
    import threading

    from sqlalchemy import event

    down = threading.Event()
    down.set()
    refused = threading.Semaphore(0)

    def refuse(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if down.is_set() and statement.lstrip().upper().startswith("INSERT INTO AUDIT"):
            refused.release()
            raise RuntimeError("database unreachable (test)")

    event.listen(database.engine, "before_cursor_execute", refuse)
    try:
        patients = [f"p-outage-{i}" for i in range(3)]
        for patient in patients:
            database.audit(
                {
                    "at": dt.datetime.now(dt.UTC),
                    "service": "s",
                    "endpoint": "order-sign",
                    "patient_id": patient,
                    "status": 200,
                    "latency_ms": 1.0,
                }
            )
        database._wake.set()
        for _ in range(2):  # the first attempt and at least one retry were refused
            assert refused.acquire(timeout=10)
        # The refused batch goes back to the queue before the writer's backoff wait.
        pause = threading.Event()
        for _ in range(500):
            if database.audit_waiting == len(patients):
                break
            pause.wait(0.01)
        assert database.audit_waiting == len(patients)
        down.clear()
        rows = database.audit_rows(limit=100)
    finally:
        event.remove(database.engine, "before_cursor_execute", refuse)
    assert sorted(r["patient_id"] for r in rows) == patients
    assert database.audit_waiting == 0
