from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cds.app import create_app
from tests.conftest import NOW, Client

from .kit import secured_settings


class MovableClock:
    """The app's clock, moved forward by the tests (no sleeps)."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def secured_app(tmp_path: Path, clock: MovableClock) -> Iterator[Any]:
    app = create_app(secured_settings(tmp_path), clock=clock)
    yield app
    app.state.database.close()


@pytest.fixture
def secured(secured_app: Any) -> Client:
    return Client(secured_app)
