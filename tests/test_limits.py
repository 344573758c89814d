from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds.limits import (
    LimitExceeded,
    MalformedJson,
    RequestLimits,
    _bracket_depth,
    body_resource_count,
    check_counts,
    count_resources,
    parse_json_body,
)


def test_parses_an_object_within_limits() -> None:
    assert parse_json_body(b'{"a": [1, {"b": "[[[[{{{{"}]}', RequestLimits(max_json_depth=3)) == {
        "a": [1, {"b": "[[[[{{{{"}]
    }


def test_brackets_inside_strings_and_escapes_do_not_count() -> None:
    body = b'{"a": "\\"[[[[[[[[[[\\\\", "b": 1}'
    assert parse_json_body(body, RequestLimits(max_json_depth=1))["b"] == 1


def test_too_deep() -> None:
    body = b'{"a":' + b"[" * 60 + b"]" * 60 + b"}"
    with pytest.raises(LimitExceeded, match="nesting exceeds the limit of 48") as info:
        parse_json_body(body, RequestLimits())
    assert info.value.limit == "json-depth"


def test_too_large() -> None:
    with pytest.raises(LimitExceeded, match="exceeds the limit of 10") as info:
        parse_json_body(b'{"a": "0123456789"}', RequestLimits(max_body_bytes=10))
    assert info.value.limit == "body-size"


@pytest.mark.parametrize("body", [b"", b"{", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_malformed(body: bytes) -> None:
    with pytest.raises(MalformedJson, match="JSON"):
        parse_json_body(body, RequestLimits())


def test_counts() -> None:
    value = {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}] * 3}
    assert count_resources(value) == 4
    check_counts(2, RequestLimits())
    with pytest.raises(LimitExceeded, match="draft orders"):
        check_counts(51, RequestLimits())


@pytest.mark.parametrize(
    "raw",
    [
        b'{"resourceType": "Bundle", "entry": [{"resource": {"resourceType" : "Patient"}}, {"resource": {"resourceType": "Patient"}}]}',
        # a key spelled with a unicode escape is still a resourceType; a string holding the word is not
        b'{"resourceType": "Bundle", "note": "\\"resourceType\\"", "entry": [{"resource": {"resource\\u0054ype": "Patient"}}, {"resource": {"resourceType": "Patient"}}]}',
    ],
)
def test_resource_count_limit(raw: bytes) -> None:
    assert body_resource_count(raw, json.loads(raw)) == 3
    assert parse_json_body(raw, RequestLimits(max_resources=3))
    with pytest.raises(LimitExceeded, match="3 resources exceed the limit of 2") as info:
        parse_json_body(raw, RequestLimits(max_resources=2))
    assert info.value.limit == "resources"


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


_TEXT = st.text(alphabet=st.sampled_from('ab"\\[]{}/u0'), max_size=8)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=20,
)


@given(_JSON)
@settings(max_examples=300, derandomize=True)
def test_depth_is_the_nesting_of_the_parsed_value(value: object) -> None:
    """The byte-level depth count agrees with the parsed structure, whatever quotes, escapes
    and brackets the strings hold."""
    raw = json.dumps(value).encode()
    assert _bracket_depth(raw) == _depth(value)


@given(_JSON, st.integers(min_value=0, max_value=4))
@settings(max_examples=200, derandomize=True)
def test_depth_counting_stops_past_the_cap(value: object, cap: int) -> None:
    """With a cap, the count is exact up to it and says "deeper" (cap + 1) beyond it."""
    raw = json.dumps(value).encode()
    assert _bracket_depth(raw, cap=cap) == min(_depth(value), cap + 1)
