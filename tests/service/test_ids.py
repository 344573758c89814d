"""Card uuids and coverage-assertion ids are RFC 4122 version-5 UUIDs of the hook instance,
the clock and the order (stable across retries of the same request)."""

from __future__ import annotations

import uuid

import pytest

from cds.decision_core import NAMESPACE, uuid5_text


@pytest.mark.parametrize("name", ["", "h|2026-11-24T10:00:00+00:00|ServiceRequest/dli-1|card", "é ✓ " * 40])
def test_card_and_assertion_ids_are_uuid5(name: str) -> None:
    assert uuid5_text(name) == str(uuid.uuid5(NAMESPACE, name))
