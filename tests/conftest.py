"""Shared fixtures: the app with a fixed clock and a throwaway database, and an HTTP client
that talks to it in-process (httpx over ASGI)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cds.app import create_app
from cds.settings import Settings

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


class Client:
    """Synchronous facade over an async httpx client bound to the ASGI app."""

    def __init__(self, app: Any, base_url: str = "http://127.0.0.1:8080") -> None:
        self.app = app
        self.base_url = base_url

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def run() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url) as client:
                return await client.request(method, path, **kwargs)

        return asyncio.run(run())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("OPTIONS", path, **kwargs)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "public_base_url": "http://127.0.0.1:8080",
        # SMART Backend Services (on with auth_mode="required"): nothing read from or written to var/
        "smart_clients_file": None,
        "smart_signing_key_file": tmp_path / "smart-signing-key.pem",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    application = create_app(settings, clock=lambda: NOW)
    yield application
    application.state.database.close()


@pytest.fixture
def client(app: Any) -> Client:
    return Client(app)


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Client]]:
    """``apps(now)``: a client of the service whose clock stands at ``now`` (a case's
    ``case.json`` moment), one app per moment shared by the module's tests."""
    made: dict[str, Any] = {}

    def get(now: str) -> Client:
        if now not in made:
            moment = dt.datetime.fromisoformat(now.replace("Z", "+00:00"))
            made[now] = create_app(make_settings(tmp_path_factory.mktemp("apps")), clock=lambda: moment)
        return Client(made[now])

    yield get
    for app in made.values():
        app.state.database.close()
