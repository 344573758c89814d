"""The registry of SMART Backend Services clients, by configuration.

A JSON file (setting ``smart_clients_file``) ``{"clients": [...]}`` and/or the setting
``smart_clients`` (the same list, e.g. as JSON in ``DLI_CDS_SMART_CLIENTS``), each entry::

    {"client_id": "ehr-a", "jwks_url": "https://ehr-a.example.org/jwks.json",   # or "jwks": {...}
     "scopes": ["system/Claim.c", "system/Claim.rs"], "organizations": ["1234567893"]}

``organizations`` are the NPIs of the provider organizations the client acts for: what it may
see of prior authorizations. Everything is checked at load; a bad entry is a
:class:`ClientConfigurationError` saying which entry and why (refused at start-up).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cds.smart.scopes import Scope, ScopeSyntaxError, parse_scopes

NPI = re.compile(r"^\d{10}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9._:/@+-]{1,200}$")


class ClientConfigurationError(ValueError):
    """A client registration that cannot be used."""


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    scopes: tuple[Scope, ...]
    organizations: tuple[str, ...]
    jwks: Mapping[str, Any] | None = None
    jwks_url: str | None = None

    @property
    def jwks_source(self) -> str:
        return self.jwks_url if self.jwks_url is not None else f"registered:{self.client_id}"

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"client_id": self.client_id}
        if self.jwks_url is not None:
            entry["jwks_url"] = self.jwks_url
        else:
            entry["jwks"] = dict(self.jwks or {})
        entry["scopes"] = [s.text for s in self.scopes]
        entry["organizations"] = list(self.organizations)
        return entry


def read_client(raw: Any, where: str) -> RegisteredClient:
    if not isinstance(raw, Mapping):
        raise ClientConfigurationError(f"{where}: a client registration is a JSON object")
    client_id = raw.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise ClientConfigurationError(f"{where}: client_id must be 1-200 characters of [A-Za-z0-9._:/@+-]")
    where = f"{where} ({client_id})"
    jwks, jwks_url = raw.get("jwks"), raw.get("jwks_url")
    if (jwks is None) == (jwks_url is None):
        raise ClientConfigurationError(f"{where}: give exactly one of jwks_url and jwks")
    if jwks_url is not None and (
        not isinstance(jwks_url, str) or not jwks_url.startswith(("https://", "http://"))
    ):
        raise ClientConfigurationError(f"{where}: jwks_url must be an http(s) URL")
    if jwks is not None:
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
            raise ClientConfigurationError(f"{where}: jwks must be a JWK Set with a non-empty 'keys' array")
        if any(not isinstance(k, Mapping) or k.get("kty") in (None, "oct") for k in jwks["keys"]):
            raise ClientConfigurationError(f"{where}: jwks keys must be asymmetric public keys (EC or RSA)")
        if any(not isinstance(k.get("kid"), str) for k in jwks["keys"]):
            raise ClientConfigurationError(f"{where}: every key of the jwks needs a kid")
    scopes = raw.get("scopes")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise ClientConfigurationError(f"{where}: scopes must be a non-empty list of strings")
    try:
        parsed = parse_scopes(scopes)
    except ScopeSyntaxError as exc:
        raise ClientConfigurationError(f"{where}: {exc}") from None
    organizations = raw.get("organizations", [])
    if not isinstance(organizations, list) or not all(
        isinstance(n, str) and NPI.match(n) for n in organizations
    ):
        raise ClientConfigurationError(f"{where}: organizations must be a list of 10-digit NPIs")
    return RegisteredClient(
        client_id=client_id,
        scopes=tuple(parsed),
        organizations=tuple(organizations),
        jwks=jwks,
        jwks_url=jwks_url,
    )


class ClientRegistry:
    def __init__(self, clients: Iterable[RegisteredClient] = ()) -> None:
        self._clients: dict[str, RegisteredClient] = {}
        for client in clients:
            if client.client_id in self._clients:
                raise ClientConfigurationError(f"client {client.client_id!r} is registered twice")
            self._clients[client.client_id] = client

    def get(self, client_id: str) -> RegisteredClient | None:
        return self._clients.get(client_id)

    def __iter__(self) -> Any:
        return iter(self._clients.values())

    def __len__(self) -> int:
        return len(self._clients)


def read_clients_file(path: Path) -> list[RegisteredClient]:
    """The clients of a registry file; a missing file is an empty registry."""
    if not path.exists():
        return []
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ClientConfigurationError(f"{path}: not a readable JSON file ({type(exc).__name__})") from None
    entries = document.get("clients") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ClientConfigurationError(f'{path}: expected {{"clients": [...]}}')
    return [read_client(raw, f"{path} clients[{i}]") for i, raw in enumerate(entries)]


def load_registry(clients_file: Path | None, inline: Iterable[Any]) -> ClientRegistry:
    clients = read_clients_file(clients_file) if clients_file is not None else []
    clients += [read_client(raw, f"setting smart_clients[{i}]") for i, raw in enumerate(inline)]
    return ClientRegistry(clients)


def add_client(path: Path, client: RegisteredClient) -> None:
    """Add (or replace, by client_id) one registration in the file, written atomically."""
    existing = [c for c in read_clients_file(path) if c.client_id != client.client_id]
    document = {"clients": [c.as_json() for c in [*existing, client]]}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    os.replace(temporary, path)
