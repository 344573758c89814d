"""The base URL the service answers under (audiences, questionnaire canonicals) is Starlette's
``request.base_url``, built once per scheme/Host/server/root path instead of per request."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from cds.app import served_base_url


def _scope(
    scheme: str = "http",
    host: bytes | None = b"cds.example.org",
    server: tuple[str, int] | None = ("127.0.0.1", 8080),
    root_path: str = "",
    **extra: Any,
) -> dict[str, Any]:
    headers = [(b"content-type", b"application/json")]
    if host is not None:
        headers.insert(0, (b"host", host))
    return {
        "type": "http",
        "method": "POST",
        "scheme": scheme,
        "server": server,
        "path": root_path + "/cds-services/dli-order-sign",
        "raw_path": b"/cds-services/dli-order-sign",
        "query_string": b"a=1",
        "root_path": root_path,
        "headers": headers,
        **extra,
    }


@pytest.mark.parametrize(
    "scope",
    [
        _scope(),
        _scope(host=b"cds.example.org:8443", scheme="https"),
        _scope(host=b"127.0.0.1:8080"),
        _scope(host=None),
        _scope(host=None, server=("::1", 8080)),
        _scope(host=None, server=("10.0.0.1", 80)),
        _scope(host=None, scheme="https", server=("10.0.0.1", 443)),
        _scope(host=None, server=None),
        _scope(root_path="/cds"),
        _scope(root_path="/cds/"),
        _scope(root_path="/inner", app_root_path="/outer"),
        _scope(host=b"[::1]:8080"),
        _scope(host=b"bad host:port"),
        _scope(host=b"h\xe9st"),
    ],
)
def test_same_as_starlette(scope: dict[str, Any]) -> None:
    expected = str(Request(scope).base_url).rstrip("/")
    assert served_base_url(Request(scope)) == expected
    assert served_base_url(Request(scope)) == expected  # from the cache


@given(
    host=st.one_of(st.none(), st.binary(max_size=30)),
    scheme=st.sampled_from(["http", "https"]),
    port=st.integers(min_value=1, max_value=65535),
    root_path=st.sampled_from(["", "/", "/cds", "/a/b/"]),
)
def test_same_as_starlette_for_any_host_header(host: bytes | None, scheme: str, port: int, root_path: str) -> None:
    scope = _scope(scheme=scheme, host=host, server=("192.0.2.7", port), root_path=root_path)
    try:
        expected = str(Request(scope).base_url).rstrip("/")
    except Exception as exc:  # what Starlette cannot build, neither do we
        with pytest.raises(type(exc)):
            served_base_url(Request(scope))
        return
    assert served_base_url(Request(scope)) == expected
