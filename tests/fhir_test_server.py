"""A small FHIR R4 server on 127.0.0.1 for tests: reads and searches over a set of resources.

Supports ``GET [type]/[id]`` and ``GET [type]?patient=..&status=..&category=a,b&_count=..`` with
paging (``next`` links), the searches of our prefetch templates. Records every request's path
and Authorization header so tests can check what the service asked for.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAGE_SIZE = 3


def _tokens(resource: dict[str, Any], element: str) -> set[str]:
    value = resource.get(element)
    items = value if isinstance(value, list) else [value]
    codes: set[str] = set()
    for item in items:
        if isinstance(item, str):
            codes.add(item)
        elif isinstance(item, dict):
            codes.update(
                c.get("code") for c in item.get("coding", []) if isinstance(c, dict) and c.get("code")
            )
    return codes


def _patient_of(resource: dict[str, Any]) -> str | None:
    for element in ("subject", "patient", "beneficiary"):
        ref = resource.get(element)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return ref["reference"].split("/")[-1]
    return resource.get("id") if resource.get("resourceType") == "Patient" else None


def _matches(resource: dict[str, Any], params: dict[str, list[str]]) -> bool:
    for name, values in params.items():
        wanted = {v for value in values for v in value.split(",")}
        if name in ("_count", "_sort", "page"):
            continue
        if name == "patient":
            if _patient_of(resource) not in {w.split("/")[-1] for w in wanted}:
                return False
        elif name in ("status", "category", "lifecycle-status"):
            element = {"lifecycle-status": "lifecycleStatus"}.get(name, name)
            if not _tokens(resource, element) & wanted:
                return False
        elif name == "_id":
            if resource.get("id") not in wanted:
                return False
        else:
            return False  # an unsupported parameter matches nothing (the test would notice)
    return True


class _Server(ThreadingHTTPServer):
    # The service opens one connection per prefetch key at once: the default listen backlog of
    # 5 would drop some SYNs, and their one-second retransmit looks like a slow server.
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:  # noqa: N802
        server: Any = self.server
        parts = urlsplit(self.path)
        server.requests.append(
            (parts.path + ("?" + parts.query if parts.query else ""), self.headers.get("Authorization"))
        )
        path = parts.path.removeprefix(server.prefix).strip("/")
        segments = path.split("/")
        resources: list[dict[str, Any]] = server.resources
        if len(segments) == 2:
            found = next(
                (r for r in resources if r["resourceType"] == segments[0] and r.get("id") == segments[1]),
                None,
            )
            if found is None:
                self._send(
                    404,
                    {
                        "resourceType": "OperationOutcome",
                        "issue": [{"severity": "error", "code": "not-found"}],
                    },
                )
            else:
                self._send(200, found)
            return
        params = parse_qs(parts.query)
        page = int(params.get("page", ["0"])[0])
        matches = [r for r in resources if r["resourceType"] == segments[0] and _matches(r, params)]
        chunk = matches[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        base = f"http://{self.headers.get('Host')}{server.prefix}"
        bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(matches)}
        if chunk:
            bundle["entry"] = [
                {
                    "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in chunk
            ]
        if (page + 1) * PAGE_SIZE < len(matches):
            query = "&".join(f"{k}={v[0]}" for k, v in params.items() if k != "page")
            bundle["link"] = [{"relation": "next", "url": f"{base}/{segments[0]}?{query}&page={page + 1}"}]
        self._send(200, bundle)

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def fhir_server(resources: list[dict[str, Any]]) -> Iterator[tuple[str, list[tuple[str, str | None]]]]:
    """Serve ``resources`` at ``http://127.0.0.1:<port>/fhir``; yield (base URL, request log)."""
    server: Any = _Server(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.resources = resources
    server.requests = []
    server.prefix = "/fhir"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/fhir", server.requests
    finally:
        server.shutdown()
        server.server_close()
