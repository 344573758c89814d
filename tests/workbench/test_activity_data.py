"""Activity from structured data: every hook call's audit row records its decided orders'
outcomes and criterion statuses (the ``criteria`` column), the activity counts failing and
unknown criteria from it, a database from before the column gains it, and its older rows count
as "not recorded"."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from cds.db import Database
from cds.workbench import activity
from cds.workbench.hook_choice import request_for
from tests import postgres_server
from tests.conftest import Client

EXAMPLES = Path(__file__).resolve().parents[2] / "fhir-examples"
SECRET = "SECRET-ACCESS-TOKEN-4711"
LABELS = ["I", "I.A", "I.B", "I.C.1", "I.C.2", "I.C.3", "I.C.4", "II.A", "II.B", "II.C", "II.D"]
PATHS = {"order-sign": "dli-order-sign", "order-select": "dli-order-select", "order-dispatch": "dli-order-dispatch"}

# The audit table as databases created before idempotency keys and criteria had it.
OLD_AUDIT = """CREATE TABLE audit (
    id {id} PRIMARY KEY, at TIMESTAMP NOT NULL, service VARCHAR(100) NOT NULL,
    endpoint VARCHAR(100) NOT NULL, hook_instance VARCHAR(200), client_iss VARCHAR(500),
    patient_id VARCHAR(200), orders TEXT, status INTEGER NOT NULL, latency_ms FLOAT NOT NULL,
    response TEXT)"""


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database holding an audit table of the old shape, with one answered order-sign call."""
    if request.param == "sqlite":
        url, serial = f"sqlite:///{tmp_path / 'old.sqlite3'}", "INTEGER NOT NULL"
        yield from _with_old_table(url, serial)
        return
    if not postgres_server.available():
        pytest.fail("PostgreSQL is not installed: scripts/test.sh installs Debian's postgresql")
    with postgres_server.postgres_server() as url:
        yield from _with_old_table(url, "SERIAL")


def _with_old_table(url: str, serial: str) -> Iterator[str]:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(OLD_AUDIT.format(id=serial)))
        conn.execute(
            text(
                "INSERT INTO audit (at, service, endpoint, hook_instance, patient_id, orders, status, latency_ms, response)"
                " VALUES (:at, 'dli-order-sign', 'order-sign', 'old-1', 'pat-05', :orders, 200, 4.0, :response)"
            ),
            {"at": dt.datetime(2026, 11, 20, 10), "response": (EXAMPLES / "05-no-indication-recorded" / "expected.json").read_text(),
             "orders": json.dumps([{"order": "ServiceRequest/dli-1", "outcome": "documentation-needed"}])},
        )
    engine.dispose()
    yield url


def request_of(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name / "request.json").read_text())
    return data


def test_hook_calls_record_criteria_statuses(client: Client) -> None:
    for hook, path in PATHS.items():
        body = request_for(hook, request_of("05-no-indication-recorded"))
        body["hookInstance"] = f"criteria-{hook}"
        body["fhirAuthorization"]["access_token"] = SECRET
        response = client.post(f"/cds-services/{path}", json=body, headers={"Authorization": f"Bearer {SECRET}"})
        assert response.status_code == 200, response.text
    client.post("/cds-services/dli-order-sign", json={"hook": "order-sign"})  # a 400: nothing decided
    empty = request_of("37-leukocyte-transfusion-out-of-scope")  # no order in scope: nothing to decide
    assert client.post("/cds-services/dli-order-sign", json=empty).status_code == 200
    rows = client.app.state.database.audit_rows()
    by_instance = {r["hook_instance"]: r for r in rows}
    for hook in PATHS:
        row = by_instance[f"criteria-{hook}"]
        assert SECRET not in row["criteria"]
        recorded = json.loads(row["criteria"])
        assert [d["outcome"] for d in recorded] == ["documentation-needed"]
        assert list(recorded[0]["criteria"]) == LABELS
        assert recorded[0]["criteria"]["I.A"] == "unknown" and recorded[0]["criteria"]["I"] == "met"
        assert set(recorded[0]) == {"outcome", "criteria"}  # statuses only: no evidence, no resources
    assert [r["criteria"] for r in rows if r["status"] == 400] == [None]
    assert by_instance[empty["hookInstance"]]["criteria"] == "[]"
    counted = activity.criteria_counts(rows)
    assert (counted.calls, counted.orders, counted.not_recorded) == (4, 3, 0)
    assert counted.counts[("I.A", "unknown")] == 3


def test_an_old_database_gains_the_column_and_old_rows_are_not_recorded(old_database_url: str, tmp_path: Path) -> None:
    database = Database(old_database_url, journal_dir=tmp_path / "journal")
    try:
        columns = {c["name"] for c in inspect(database.engine).get_columns("audit")}
        assert {"entry_key", "criteria"} <= columns
        database.audit_log.record_blocking({
            "at": dt.datetime(2026, 11, 21, tzinfo=dt.UTC), "service": "dli-order-sign", "endpoint": "order-sign",
            "hook_instance": "new-1", "status": 200, "latency_ms": 3.0,
            "orders": json.dumps([{"order": "ServiceRequest/dli-1", "outcome": "not-medically-necessary"}]),
            "criteria": json.dumps([{"outcome": "not-medically-necessary", "criteria": {"I": "met", "I.B": "not-met"}}]),
        })
        rows = database.audit_rows()
        assert [(r["hook_instance"], r["criteria"] is None) for r in rows] == [("new-1", False), ("old-1", True)]
        counted = activity.criteria_counts(rows)
        # The old row's card text names unknown criteria: it is not read back, it is "not recorded".
        assert dict(counted.counts) == {("I.B", "not met"): 1}
        assert (counted.calls, counted.orders, counted.not_recorded) == (1, 1, 1)
        page = activity.charts(rows)
        assert "1 answered hook calls not recorded" in page and "I.B not met" in page and "I.A" not in page
    finally:
        database.close()
    Database(old_database_url, journal_dir=tmp_path / "journal").close()  # a second start: nothing to add


def test_unreadable_criteria_count_as_not_recorded() -> None:
    rows = [
        {"endpoint": "order-sign", "status": 200, "criteria": "not json"},
        {"endpoint": "order-sign", "status": 200, "criteria": '{"I": "met"}'},
        {"endpoint": "feedback", "status": 200, "criteria": None},
        {"endpoint": "order-select", "status": 200,
         "criteria": json.dumps([{"outcome": "documentation-needed", "criteria": {"II.A": "unknown", "I": "met"}}])},
    ]
    counted = activity.criteria_counts(rows)
    assert (counted.calls, counted.orders, counted.not_recorded) == (1, 1, 2)
    assert dict(counted.counts) == {("II.A", "unknown"): 1}


def test_a_column_another_worker_added_meanwhile_is_no_error(
    old_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers starting at once both find the columns missing; the one whose ALTER TABLE
    comes second fails on the database and must still start."""
    engine = create_engine(old_database_url)
    looked: list[set[str]] = []
    columns = Database._audit_columns

    def stale_first(database: Database) -> set[str]:
        found = columns(database)
        if not looked:  # the other worker adds the columns just after this one looked
            with engine.begin() as conn:
                conn.execute(text("ALTER TABLE audit ADD COLUMN entry_key VARCHAR(32)"))
                conn.execute(text("CREATE UNIQUE INDEX ix_audit_entry_key ON audit (entry_key)"))
                conn.execute(text("ALTER TABLE audit ADD COLUMN criteria TEXT"))
        looked.append(found)
        return found

    monkeypatch.setattr(Database, "_audit_columns", stale_first)
    database = Database(old_database_url, journal_dir=tmp_path / "journal")
    try:
        assert not {"entry_key", "criteria"} & looked[0]  # it did try to add them
        assert {"entry_key", "criteria"} <= columns(database)
    finally:
        database.close()
        engine.dispose()


def test_a_dispatched_order_is_sent_as_signed() -> None:
    """order-dispatch follows signing: the orders it names are active, no longer drafts."""
    sign = request_of("05-no-indication-recorded")
    dispatch = request_for("order-dispatch", sign)
    sent = [e["resource"] for e in dispatch["prefetch"]["dispatched"]["entry"]]
    drafts = [e["resource"] for e in sign["context"]["draftOrders"]["entry"]]
    assert [o["id"] for o in sent] == [o["id"] for o in drafts]
    assert {o["status"] for o in drafts} == {"draft"} and {o["status"] for o in sent} == {"active"}
    assert dispatch["context"]["dispatchedOrders"] == [f"{o['resourceType']}/{o['id']}" for o in drafts]
