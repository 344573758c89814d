from __future__ import annotations

import pytest

from cds.limits import (
    LimitExceeded,
    MalformedJson,
    RequestLimits,
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
    check_counts(2, 4, RequestLimits())
    with pytest.raises(LimitExceeded, match="draft orders"):
        check_counts(51, 4, RequestLimits())
    with pytest.raises(LimitExceeded, match="resources exceed"):
        check_counts(1, 5001, RequestLimits())
