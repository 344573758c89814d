"""A database made before PAS submissions recorded their client (``pas_claim`` without
``client_id`` and ``organizations``) keeps working: the store adds the columns at start-up, on
SQLite and on a real PostgreSQL server, and the submissions already stored stay answerable."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    inspect,
    select,
    text,
)

from cds.app import create_app
from cds.pas.store import ADDED_COLUMNS, ClaimStore, pas_claim
from tests.service.test_database import postgres_url  # noqa: F401 (the PostgreSQL server fixture)

from ..conftest import Client, make_settings
from .bundles import example_request, inquiry_bundle, pas_bundle

NOW = "2026-11-24T10:00:00Z"
MOMENT = dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)

# The table as the first PAS release created it (before SMART Backend Services).
old_metadata = MetaData()
old_pas_claim = Table(
    "pas_claim",
    old_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("claim_key", String(600), nullable=False, unique=True),
    Column("bundle_hash", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("patient_id", String(200)),
    Column("member_id", String(200), index=True),
    Column("provider_npis", Text, nullable=False),
    Column("items", Text, nullable=False),
    Column("pre_auth_ref", String(100), index=True),
    Column("request", Text, nullable=False),
    Column("response", Text, nullable=False),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (on PostgreSQL, a database created for the test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    server: str = request.getfixturevalue("postgres_url")
    name = f"pas_migration_{tmp_path.name.replace('-', '_').lower()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def _earlier_submission(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A submission answered and stored by the service (on a scratch database), and its row as
    the earlier version stored it (without the columns added since)."""
    bundle = pas_bundle(example_request("01-meets-aml-relapse-prevention"), "before-upgrade", NOW)
    app = create_app(make_settings(tmp_path / "scratch"), clock=lambda: MOMENT)
    try:
        assert Client(app).post("/fhir/Claim/$submit", json=bundle).status_code == 200
        with app.state.database.engine.connect() as conn:
            row = dict(conn.execute(select(pas_claim)).one()._mapping)
    finally:
        app.state.database.close()
    return bundle, {k: v for k, v in row.items() if k != "id" and k not in ADDED_COLUMNS}


def test_a_table_made_by_the_earlier_version_gains_the_new_columns(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "scratch").mkdir()
    earlier, row = _earlier_submission(tmp_path)
    engine = create_engine(database_url)
    old_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(old_pas_claim), [row])
    assert not set(ADDED_COLUMNS) & {c["name"] for c in inspect(engine).get_columns("pas_claim")}
    engine.dispose()

    settings = make_settings(tmp_path, database_url=database_url, audit_journal_dir=tmp_path / "journal")
    for start in range(2):  # the second start finds the columns there
        app = create_app(settings, clock=lambda: MOMENT)
        try:
            client = Client(app)
            columns = {c["name"] for c in inspect(app.state.database.engine).get_columns("pas_claim")}
            assert set(ADDED_COLUMNS) <= columns
            # the earlier submission: answered again from its row, found by an inquiry
            again = client.post("/fhir/Claim/$submit", json=earlier)
            assert again.status_code == 200, again.text
            assert again.json() == json.loads(row["response"])
            assert _inquired(client, earlier) == ["before-upgrade"]
            # a new submission is stored with the new columns (NULL: authentication is off), found too
            claim_id = f"after-upgrade-{start}"
            bundle = pas_bundle(example_request("02-meets-mixed-chimerism-cml"), claim_id, NOW)
            submitted = client.post("/fhir/Claim/$submit", json=bundle)
            assert submitted.status_code == 200, submitted.text
            stored = ClaimStore(app.state.database.engine).get(f"urn:trnorg:1316923541|{claim_id}")
            assert stored is not None and stored.client_id is None and stored.organizations is None
            assert _inquired(client, bundle) == [f"after-upgrade-{n}" for n in range(start + 1)]
        finally:
            app.state.database.close()


def _inquired(client: Client, submission: dict[str, Any]) -> list[str]:
    """The Claim identifiers of the stored submissions an inquiry made from ``submission`` finds."""
    response = client.post("/fhir/Claim/$inquire", json=inquiry_bundle(submission))
    assert response.status_code == 200, response.text
    found = [p["resource"]["entry"][0]["resource"] for p in response.json().get("parameter", [])]
    return [r["request"]["identifier"]["value"] for r in found]


def test_columns_another_worker_added_meanwhile_are_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers starting at once both find the columns missing; the one whose ALTER TABLE
    comes second fails on the database and must still start."""
    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    old_metadata.create_all(engine)
    seen: list[set[str]] = []
    columns = ClaimStore._columns

    def stale_first(store: ClaimStore) -> set[str]:
        found = columns(store)
        if not seen:  # the other worker adds the columns just after this one looked
            with engine.begin() as conn:
                for name in ADDED_COLUMNS:
                    conn.execute(text(f"ALTER TABLE pas_claim ADD COLUMN {name} TEXT"))
        seen.append(found)
        return found

    monkeypatch.setattr(ClaimStore, "_columns", stale_first)
    ClaimStore(engine)
    assert not set(ADDED_COLUMNS) & seen[0]  # it did try to add them
    assert set(ADDED_COLUMNS) <= columns(ClaimStore(engine))
    engine.dispose()
