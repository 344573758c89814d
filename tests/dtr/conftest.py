"""The app with the examples' clock, shared by the DTR tests of a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cds.app import create_app
from tests.conftest import NOW, Client, make_settings


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    app = create_app(make_settings(tmp_path_factory.mktemp("dtr")), clock=lambda: NOW)
    yield Client(app)
    app.state.database.close()
