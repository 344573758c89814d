"""``dli-cds clients add|list``: the SMART Backend Services client registry file.

```
dli-cds clients add CLIENT_ID (--jwks-url URL | --jwks-file FILE) --scope S [--scope S ...]
                    [--npi NPI ...] [--file PATH]
dli-cds clients list [--file PATH]
```
The file is the setting ``smart_clients_file`` unless ``--file`` names another; the server reads
it at start (restart it after a change). ``add`` replaces a registration with the same client id
and prints what the client needs to know. Bad input: a message and exit status 2, no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cds.smart.clients import ClientConfigurationError, add_client, read_client, read_clients_file
from cds.smart.configuration import SMART_CONFIGURATION_PATH, token_url
from cds.smart.token_endpoint import ASSERTION_ALGORITHMS, ASSERTION_TYPE


def register(commands: Any) -> None:
    clients = commands.add_parser("clients", help="SMART Backend Services clients (DTR, PAS)")
    actions = clients.add_subparsers(dest="clients_command", required=True)
    add = actions.add_parser("add", help="register (or replace) a client")
    add.add_argument("client_id")
    keys = add.add_mutually_exclusive_group(required=True)
    keys.add_argument("--jwks-url", default=None, help="the client's JWK Set URL")
    keys.add_argument("--jwks-file", type=Path, default=None, help="the client's public JWK Set (JSON file)")
    add.add_argument("--scope", action="append", required=True, help="an allowed scope (repeatable)")
    add.add_argument(
        "--npi", action="append", default=[], help="an organization NPI it acts for (repeatable)"
    )
    add.add_argument(
        "--file", type=Path, default=None, help="registry file (default: setting smart_clients_file)"
    )
    listing = actions.add_parser("list", help="list the registered clients")
    listing.add_argument("--file", type=Path, default=None)


def run(args: argparse.Namespace) -> int:
    from cds.settings import get_settings

    settings = get_settings()
    path: Path | None = args.file or settings.smart_clients_file
    if path is None:
        print("error: no registry file: give --file or set DLI_CDS_SMART_CLIENTS_FILE", file=sys.stderr)
        return 2
    try:
        if args.clients_command == "list":
            for client in read_clients_file(path):
                entry = client.as_json()
                entry.pop("jwks", None)
                print(json.dumps(entry))
            return 0
        return _add(args, path, settings.public_base_url, settings.auth_mode)
    except ClientConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {path}: {exc.strerror or type(exc).__name__}", file=sys.stderr)
        return 2


def _add(args: argparse.Namespace, path: Path, public_base_url: str, auth_mode: str) -> int:
    entry: dict[str, Any] = {"client_id": args.client_id, "scopes": args.scope, "organizations": args.npi}
    if args.jwks_url is not None:
        entry["jwks_url"] = args.jwks_url
    else:
        try:
            entry["jwks"] = json.loads(args.jwks_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ClientConfigurationError(
                f"{args.jwks_file}: not a readable JSON file ({type(exc).__name__})"
            ) from None
    client = read_client(entry, "the new client")
    add_client(path, client)
    base = (public_base_url.rstrip("/") or "https://<this service>") + "/fhir"
    print(f"registered {client.client_id} in {path} (restart the service to load it)")
    print(f"  smart-configuration: {base}{SMART_CONFIGURATION_PATH}")
    print(f"  token endpoint:      {token_url(base)}")
    print("  grant_type:          client_credentials")
    print(f"  client_assertion_type: {ASSERTION_TYPE}")
    print(
        f"  client_assertion:    a JWT signed {' or '.join(ASSERTION_ALGORITHMS)} with a key of its JWKS "
        f"(header kid), iss = sub = {client.client_id}, aud = the token endpoint, exp at most "
        "5 minutes away, a new jti each time"
    )
    print(f"  scopes it may ask:   {' '.join(s.text for s in client.scopes)}")
    print(
        f"  organizations (NPI): {', '.join(client.organizations) or 'none: it will see no prior authorization'}"
    )
    if auth_mode != "required":
        print("  NOTE: authentication is off (DLI_CDS_AUTH_MODE=required turns it on)")
    return 0
