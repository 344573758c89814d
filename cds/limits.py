"""Request limits: body size, JSON nesting depth, number of draft orders and resources, and the
whole request's time budget (a :class:`Deadline` on the monotonic clock).

Applied before anything else reads a request, so a hostile or broken client costs little.
Every violation is a :class:`LimitExceeded` naming the limit; the HTTP layer maps
``body-size`` to 413, ``time-budget`` (a body that did not arrive in time) to 408 and the others
to 400, each with an OperationOutcome. Once the body is in, running out of time is not an error:
the service answers ``indeterminate``/technical (see ``cds.order_sign``).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True)
class RequestLimits:
    max_body_bytes: int = 5 * 1024 * 1024
    max_json_depth: int = 48
    max_draft_orders: int = 50
    max_resources: int = 5000
    time_budget_seconds: float = 4.0


class Deadline:
    """The point on ``time.monotonic()`` by which the whole request must be answered."""

    __slots__ = ("at",)

    def __init__(self, seconds: float, start: float | None = None) -> None:
        self.at = (time.monotonic() if start is None else start) + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())


class LimitExceeded(Exception):
    """A request is over one of the configured limits."""

    def __init__(self, limit: str, message: str) -> None:
        self.limit = limit
        super().__init__(message)


class MalformedJson(ValueError):
    """The body is not JSON (or not a JSON object where one is required)."""


def parse_json_body(raw: bytes, limits: RequestLimits) -> dict[str, Any]:
    """Parse a request body as a JSON object within the size, depth and resource-count limits."""
    if len(raw) > limits.max_body_bytes:
        raise LimitExceeded(
            "body-size", f"request body of {len(raw)} bytes exceeds the limit of {limits.max_body_bytes}"
        )
    try:
        value = orjson.loads(raw)  # C speed; refuses nesting deeper than 1024 by itself
    except orjson.JSONDecodeError as exc:
        _check_depth(raw, limits)  # too deep for orjson is a depth error, not malformed JSON
        raise MalformedJson(f"request body is not valid JSON: {exc}") from exc
    _check_depth(raw, limits)
    if not isinstance(value, dict):
        raise MalformedJson("request body must be a JSON object")
    resources = body_resource_count(raw, value)
    if resources > limits.max_resources:
        raise LimitExceeded("resources", f"{resources} resources exceed the limit of {limits.max_resources}")
    return value


def _check_depth(raw: bytes, limits: RequestLimits) -> None:
    if _bracket_depth(raw, cap=limits.max_json_depth) > limits.max_json_depth:
        raise LimitExceeded("json-depth", f"JSON nesting exceeds the limit of {limits.max_json_depth}")


def body_resource_count(raw: bytes, value: Any) -> int:
    """Number of FHIR resources in a parsed body: the ``"resourceType"`` keys counted in the
    bytes at C speed (inside a JSON string a quote is always escaped, so no string matches),
    or, when the body uses ``\\u`` escapes (a key could be spelled with them), by walking it."""
    if b"\\u" in raw:
        return count_resources(value)
    return raw.count(b'"resourceType"')


_NOT_STRUCTURE = bytes(range(256)).translate(None, b'[]{}"')  # every byte but brackets and quotes
_SQUARE = bytes.maketrans(b"{}", b"[]")
_DELTA = {ord("["): 1, ord("]"): -1}


def _bracket_depth(raw: bytes, cap: int | None = None) -> int:
    """Deepest nesting of [ and { outside strings, at C speed: escaped backslashes and quotes
    go first; of the rest only brackets and quotes are kept, and every piece between quotes (a
    string's brackets) is dropped — when deleting adjacent quote pairs leaves no quote, no
    string held a bracket and what is left is the structure. Each pass that deletes every
    innermost "[]" pair takes one level off, so the number of passes is the depth (counting
    stops past ``cap``)."""
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = raw.translate(_SQUARE, _NOT_STRUCTURE)
    brackets = structure.replace(b'""', b"")  # strings without brackets: the usual case
    if b'"' in brackets:  # some string holds a bracket: drop every piece between quotes
        brackets = b"".join(structure.split(b'"')[::2])
    depth = 0
    while brackets and (cap is None or depth <= cap):
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):  # unbalanced (not JSON): the running count of the rest
            return depth + max(itertools.accumulate(map(_DELTA.__getitem__, brackets)), default=0)
        depth += 1
        brackets = shorter
    return depth


def count_resources(value: Any) -> int:
    """Number of FHIR resources (objects with a resourceType) in a parsed JSON value."""
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "resourceType" in item:
                count += 1
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))
    return count


def check_counts(draft_orders: int, limits: RequestLimits) -> None:
    if draft_orders > limits.max_draft_orders:
        raise LimitExceeded(
            "draft-orders", f"{draft_orders} draft orders exceed the limit of {limits.max_draft_orders}"
        )
