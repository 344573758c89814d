"""The CDS Hooks JSON rule: no ``null`` and no empty string, array or object anywhere in a
response (except the top-level ``"cards": []`` and, when the body carries it, ``"systemActions": []``,
which order-sign answers always hold)."""

from __future__ import annotations

from typing import Any

_EMPTY = object()


def prune(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            cleaned = prune(item)
            if cleaned is not _EMPTY:
                out[key] = cleaned
        return out if out else _EMPTY
    if isinstance(value, list):
        items = [c for c in (prune(v) for v in value) if c is not _EMPTY]
        return items if items else _EMPTY
    if value is None or value == "":
        return _EMPTY
    return value


def cds_response(body: dict[str, Any]) -> dict[str, Any]:
    cleaned = prune(body)
    if cleaned is _EMPTY:
        cleaned = {}
    cleaned.setdefault("cards", [])
    if isinstance(body.get("systemActions"), list):
        cleaned.setdefault("systemActions", [])
    return cleaned  # type: ignore[no-any-return]
