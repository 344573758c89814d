"""A FHIR server that misbehaves on purpose, on 127.0.0.1, for resilience tests.

Each fault is a path prefix, so one server serves every mode at once:
``http://127.0.0.1:<port>/<fault>/`` is the ``fhirServer`` base a test hands to the service.

| fault | behaviour |
|---|---|
| ``ok`` | answers every search with an empty searchset Bundle |
| ``slow`` | waits ``SLOW_SECONDS`` before answering |
| ``error500`` | 500 with an OperationOutcome |
| ``bad-request`` | 400 (a search the server does not support) |
| ``unauthorized`` | 401 |
| ``forbidden`` | 403 |
| ``malformed`` | 200 with a body that is not JSON |
| ``not-a-bundle`` | 200 with a JSON array |
| ``endless-pages`` | every page links to a next page, forever |
| ``huge`` | one page of ``HUGE_ENTRIES`` entries |
| ``drip`` | sends a valid Bundle one byte every ``DRIP_INTERVAL`` seconds |
| ``reset`` | closes the connection without answering |
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

SLOW_SECONDS = 30.0
DRIP_INTERVAL = 0.5
HUGE_ENTRIES = 20000


def _bundle(base: str, entries: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(entries)}

    if entries:
        bundle["entry"] = [
            {"fullUrl": f"{base}/{e['resourceType']}/{e['id']}", "resource": e} for e in entries
        ]
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def _outcome(code: str, severity: str = "error") -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": code}]}


class _Server(ThreadingHTTPServer):
    # The service opens one connection per prefetch key at once: the default listen backlog of
    # 5 would drop some SYNs, and their one-second retransmit looks like a slow server.
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    server_version = "FaultFHIR/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence access logs
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        parts = urlsplit(self.path)
        fault, _, rest = parts.path.lstrip("/").partition("/")
        base = f"http://{self.headers.get('Host', '127.0.0.1')}/{fault}"
        self.server.requests.append((fault, rest, self.headers.get("Authorization")))  # type: ignore[attr-defined]
        try:
            self._answer(fault, rest, parts.query, base)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, fault: str, rest: str, query: str, base: str) -> None:
        if fault == "ok":
            self._json(200, _bundle(base, []))
        elif fault == "slow":
            time.sleep(SLOW_SECONDS)
            self._json(200, _bundle(base, []))
        elif fault == "error500":
            self._json(500, _outcome("exception", "fatal"))
        elif fault == "bad-request":
            self._json(400, _outcome("not-supported"))
        elif fault == "unauthorized":
            self._json(401, _outcome("login"))
        elif fault == "forbidden":
            self._json(403, _outcome("forbidden"))
        elif fault == "malformed":
            data = b'{"resourceType": "Bundle", "entry": [ {"resource": '
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif fault == "not-a-bundle":
            self._json(200, [1, 2, 3])
        elif fault == "endless-pages":
            page = int(dict(p.partition("=")[::2] for p in query.split("&") if p).get("page", "0") or 0)
            resource = {
                "resourceType": "Observation",
                "id": f"obs-{page}",
                "status": "final",
                "code": {"text": "noise"},
            }
            self._json(200, _bundle(base, [resource], f"{base}/{rest}?page={page + 1}"))
        elif fault == "huge":
            entries = [
                {"resourceType": "Observation", "id": f"o{i}", "status": "final", "code": {"text": "x"}}
                for i in range(HUGE_ENTRIES)
            ]
            self._json(200, _bundle(base, entries))
        elif fault == "drip":
            data = json.dumps(_bundle(base, [])).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for byte in data:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(DRIP_INTERVAL)
        elif fault == "reset":
            linger = b"\x01\x00\x00\x00\x00\x00\x00\x00"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.connection.close()
        else:
            self._json(404, _outcome("not-found"))


@contextmanager
def fault_server() -> Iterator[tuple[str, list[tuple[str, str, str | None]]]]:
    """Start the server on a free loopback port; yield (root URL, request log)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
