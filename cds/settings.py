"""Service settings, read once from the environment (prefix ``DLI_CDS_``) or a ``.env`` file.

Handed to the app through ``create_app(settings)``; ``get_settings()`` caches the default.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DLI_CDS_", env_file=".env", extra="ignore")

    # The public base URL of this service (scheme, host, port, optional path), used for the
    # questionnaire canonical and JWT audiences. Empty: the address each request was sent to.
    public_base_url: str = ""
    plan_name: str = "Example Health Plan"
    policy_url: str = "https://www.centene.com/content/dam/centene/policies/clinical-policies/CP.MP.101.pdf"
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    database_url: str = f"sqlite:///{ROOT / 'var' / 'dli-cds.sqlite3'}"
    audit_retention_days: int = 2555
    # The audit log (README "The audit trail"): SQLite's synchronous setting (NORMAL: a committed
    # row survives a process crash; FULL: a power loss too, for an fsync per commit), the local
    # journal that holds rows while the database is unreachable (None: beside the SQLite file,
    # or var/audit-journal) and its size limit (beyond it calls are answered 503), how long a failed write is retried
    # before rows go to the journal, and the group-commit window (measured: 0 is best).
    sqlite_synchronous: str = "NORMAL"
    audit_journal_dir: Path | None = None
    audit_journal_max_bytes: int = 1 << 30
    audit_retry_seconds: float = 0.5
    audit_group_window_seconds: float = 0.0
    cql_dir: Path = ROOT / "cql"
    # FHIR server calls (missing prefetch): per-request timeout, pages, and the total budget.
    fhir_timeout_seconds: float = 2.5
    fhir_max_pages: int = 5
    time_budget_seconds: float = 4.0
    # Request limits.
    max_body_bytes: int = 5 * 1024 * 1024
    max_json_depth: int = 48
    max_draft_orders: int = 50
    max_resources: int = 5000
    # Client authentication: "off" (embedded quick start) or "required".
    auth_mode: str = "off"
    auth_algorithms: list[str] = Field(default_factory=lambda: ["ES384", "RS384"])
    # Trusted issuers as JSON: {"https://ehr.example.org": {"jku": ["https://.../jwks.json"],
    # "jwks": {...} | null, "jwks_url": "..." | null, "tenants": []}}
    auth_issuers: dict[str, dict[str, object]] = Field(default_factory=dict)
    # SMART Backend Services (the FHIR routes: DTR, PAS), on when auth_mode is "required".
    # Registered clients: a JSON file {"clients": [...]} (missing: none) and/or this list.
    smart_clients_file: Path | None = ROOT / "var" / "smart-clients.json"
    smart_clients: list[dict[str, object]] = Field(default_factory=list)
    # The access tokens' signing key (EC P-384 PEM). Empty: the key file, generated at the first
    # start. Several hosts: give each the same key (this setting or the same file).
    smart_signing_key: str = ""
    smart_signing_key_file: Path = ROOT / "var" / "smart-signing-key.pem"
    log_level: str = "info"
    # The DTR SMART app a documentation-needed card launches (CRD "launch SMART application"
    # link with appContext); empty: the card only says what to complete.
    dtr_app_url: str = ""
    # The policy workbench (/workbench): None means on in the quick start (auth off), off when
    # authentication is required; true/false force it.
    workbench: bool | None = None
    examples_dir: Path = ROOT / "fhir-examples"

    @property
    def workbench_enabled(self) -> bool:
        return self.workbench if self.workbench is not None else self.auth_mode != "required"


@lru_cache
def get_settings() -> Settings:
    return Settings()
