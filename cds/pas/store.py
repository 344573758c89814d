"""Every PAS submission and its response, kept for idempotency and ``$inquire``.

One table, ``pas_claim``, in the service's database (``cds.db.Database.engine``: SQLite or
PostgreSQL); a table made by an earlier version gains the columns added since when the store
starts. A row is written in its own transaction and committed before ``$submit`` answers, so an
answered submission can always be found again. The Claim identifier (``system|value``) is
unique: a second submission with it finds the first (a concurrent one that loses the race reads
the winner's row). Holds the request and response Bundles (PHI): the audit log's rules apply
(never logged).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, insert, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

metadata = MetaData()
pas_claim = Table(
    "pas_claim",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("claim_key", String(600), nullable=False, unique=True),
    Column("bundle_hash", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("patient_id", String(200)),
    Column("member_id", String(200), index=True),
    Column("provider_npis", Text, nullable=False),  # JSON list
    Column("items", Text, nullable=False),  # JSON: [{sequence, codes, start, end, action}]
    Column("pre_auth_ref", String(100), index=True),
    Column("request", Text, nullable=False),
    Column("response", Text, nullable=False),
    # Who submitted it (SMART Backend Services): the client and the provider organizations (NPIs,
    # JSON list) it was registered for. NULL: submitted with authentication off.
    Column("client_id", String(200)),
    Column("organizations", Text),
)
# Columns added after the table was first released: a database made by an earlier version gains
# them at start-up (NULL in its rows: submitted with authentication off).
ADDED_COLUMNS = ("client_id", "organizations")


@dataclass(frozen=True)
class Submitter:
    """The authenticated client calling ``$submit``/``$inquire`` and its organizations' NPIs."""

    client_id: str
    organizations: tuple[str, ...]


def visible_to(organizations: tuple[str, ...] | None, caller: Submitter | None) -> bool:
    """Whether a stored submission may be shown to ``caller``: anyone when authentication is
    off (no caller); otherwise only a client registered for one of the organizations it was
    submitted for (a submission made with authentication off is shown to no client)."""
    if caller is None:
        return True
    return organizations is not None and bool(set(organizations) & set(caller.organizations))


@dataclass(frozen=True)
class StoredClaim:
    claim_key: str
    bundle_hash: str
    received_at: dt.datetime
    patient_id: str | None
    member_id: str | None
    provider_npis: tuple[str, ...]
    items: tuple[dict[str, Any], ...]
    pre_auth_ref: str | None
    response_text: str  # the response Bundle's JSON, parsed only when it is answered
    client_id: str | None = None
    organizations: tuple[str, ...] | None = None

    @property
    def response(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.response_text)
        return value


@dataclass(frozen=True)
class ClaimIndex:
    """What ``$inquire`` matches a stored submission on (its Bundles are not read for it)."""

    claim_key: str
    provider_npis: tuple[str, ...]
    items: tuple[dict[str, Any], ...]
    pre_auth_ref: str | None
    organizations: tuple[str, ...] | None = None


class ClaimStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """Give a ``pas_claim`` table created by an earlier version the columns added since
        (:data:`ADDED_COLUMNS`), on SQLite and PostgreSQL alike. Several workers may start at
        once: a column another one added meanwhile is not an error."""
        missing = [name for name in ADDED_COLUMNS if name not in self._columns()]
        for name in missing:
            column = pas_claim.c[name]
            kind = column.type.compile(dialect=self.engine.dialect)
            try:
                with self.engine.begin() as conn:
                    conn.execute(text(f"ALTER TABLE pas_claim ADD COLUMN {name} {kind}"))
            except DBAPIError:
                if name not in self._columns():
                    raise

    def _columns(self) -> set[str]:
        return {c["name"] for c in inspect(self.engine).get_columns("pas_claim")}

    def get(self, claim_key: str) -> StoredClaim | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(pas_claim).where(pas_claim.c.claim_key == claim_key)).first()
        return _stored(row._mapping) if row is not None else None

    def put(self, stored: StoredClaim, request: dict[str, Any]) -> StoredClaim:
        """Store ``stored`` (committed on return); if its Claim identifier is already stored,
        the row already there."""
        values = {
            "claim_key": stored.claim_key,
            "bundle_hash": stored.bundle_hash,
            "received_at": stored.received_at,
            "patient_id": stored.patient_id,
            "member_id": stored.member_id,
            "provider_npis": json.dumps(list(stored.provider_npis)),
            "items": json.dumps(list(stored.items)),
            "pre_auth_ref": stored.pre_auth_ref,
            "request": json.dumps(request),
            "response": stored.response_text,
            "client_id": stored.client_id,
            "organizations": _organizations_text(stored.organizations),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(pas_claim), [values])
        except IntegrityError:
            existing = self.get(stored.claim_key)
            if existing is None:  # not a duplicate after all
                raise
            return existing
        return stored

    def by_member(self, member_id: str) -> list[ClaimIndex]:
        """What to match of every stored submission for a member id, oldest first."""
        names = ("claim_key", "provider_npis", "items", "pre_auth_ref", "organizations")
        columns = [pas_claim.c[name] for name in names]
        query = select(*columns).where(pas_claim.c.member_id == member_id).order_by(pas_claim.c.id)
        with self.engine.connect() as conn:
            return [
                ClaimIndex(
                    claim_key=r["claim_key"],
                    provider_npis=tuple(json.loads(r["provider_npis"])),
                    items=tuple(json.loads(r["items"])),  # ("items" is also a method of c and Row)
                    pre_auth_ref=r["pre_auth_ref"],
                    organizations=_organizations(r["organizations"]),
                )
                for r in (row._mapping for row in conn.execute(query))
            ]


def _stored(row: Any) -> StoredClaim:
    received = row["received_at"]
    if received.tzinfo is None:  # SQLite returns naive datetimes
        received = received.replace(tzinfo=dt.UTC)
    return StoredClaim(
        claim_key=row["claim_key"],
        bundle_hash=row["bundle_hash"],
        received_at=received,
        patient_id=row["patient_id"],
        member_id=row["member_id"],
        provider_npis=tuple(json.loads(row["provider_npis"])),
        items=tuple(json.loads(row["items"])),
        pre_auth_ref=row["pre_auth_ref"],
        response_text=row["response"],
        client_id=row["client_id"],
        organizations=_organizations(row["organizations"]),
    )


def _organizations(value: str | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(json.loads(value))


def _organizations_text(value: tuple[str, ...] | None) -> str | None:
    return None if value is None else json.dumps(list(value))
