"""Network I/O, all of it here (httpx): reading what prefetch did not bring from the EHR's FHIR
server, and client JWKS documents for authentication. Queries run concurrently, each page with a
timeout, paging bounded, the whole within a time budget. Every FHIR failure is a
:class:`~cds.errors.FhirServerError`; tokens are never logged."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import orjson

from cds.errors import FhirServerError

log = logging.getLogger(__name__)
MAX_PAGE_BYTES = 20 * 1024 * 1024


class FhirClient:
    def __init__(
        self,
        timeout: float,
        max_pages: int,
        transport: httpx.AsyncBaseTransport | None = None,
        max_resources: int = 5000,
    ) -> None:
        self.timeout = timeout
        self.max_pages = max_pages
        self.max_resources = max_resources
        self._transport = transport

    async def search_all(
        self, base: str, queries: dict[str, str], token: str | None, budget: float
    ) -> dict[str, list[dict[str, Any]]]:
        """Every query's resources (following ``next`` links), by key."""
        headers = {"Accept": "application/fhir+json, application/json"}
        if token:
            if not (token.isascii() and token.isprintable()):  # httpx would raise, not an HTTPError
                raise FhirServerError("the access token cannot be sent in an HTTP header")
            headers["Authorization"] = f"Bearer {token}"
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            headers=headers,
            transport=self._transport,
            follow_redirects=False,
        ) as client:
            tasks = {
                key: asyncio.create_task(self._search(client, base, query)) for key, query in queries.items()
            }
            try:
                done = await asyncio.wait_for(asyncio.gather(*tasks.values()), timeout=budget)
            except TimeoutError as exc:
                for task in tasks.values():
                    task.cancel()
                raise FhirServerError("the FHIR server did not answer within the time budget") from exc
            except FhirServerError:
                for task in tasks.values():
                    task.cancel()
                raise
        total = sum(len(items) for items in done)
        if total > self.max_resources:
            raise FhirServerError(
                f"the FHIR server sent {total} resources, more than the limit of {self.max_resources}"
            )
        return dict(zip(tasks.keys(), done, strict=True))

    async def _search(self, client: httpx.AsyncClient, base: str, query: str) -> list[dict[str, Any]]:
        url: str | None = base.rstrip("/") + "/" + query.lstrip("/")
        resources: list[dict[str, Any]] = []
        pages = 0
        while url:
            pages += 1
            if pages > self.max_pages:
                raise FhirServerError(f"more than {self.max_pages} pages for {query.split('?')[0]}")
            body = await self._get(client, url)
            if body.get("resourceType") == "Bundle":
                entries = body.get("entry")
                for entry in entries if isinstance(entries, list) else []:
                    resource = entry.get("resource") if isinstance(entry, dict) else None
                    if isinstance(resource, dict) and resource.get("resourceType") not in (
                        None,
                        "OperationOutcome",
                    ):
                        resources.append(resource)
                links = body.get("link")
                url = next(
                    (
                        link.get("url")
                        for link in (links if isinstance(links, list) else [])
                        if isinstance(link, dict) and link.get("relation") == "next"
                    ),
                    None,
                )
                if not isinstance(url, str):
                    url = None
            elif isinstance(body.get("resourceType"), str) and body["resourceType"] != "OperationOutcome":
                resources.append(body)
                url = None
            else:
                raise FhirServerError(f"the FHIR server answered {query.split('?')[0]} with no resources")
        return resources

    async def _get(self, client: httpx.AsyncClient, url: str) -> dict[str, Any]:
        try:
            async with client.stream("GET", url) as response:
                if response.status_code in (400, 404, 405, 422) and "?" in url:
                    # The server does not support this search (e.g. a category it does not
                    # know): no data from it, which leaves those facts unknown, not an outage.
                    log.warning(
                        "the FHIR server answered %s to a search: read as no data", response.status_code
                    )
                    return {"resourceType": "Bundle"}
                if response.status_code == 404 and "?" not in url:
                    return {"resourceType": "Bundle"}
                if response.status_code in (401, 403):
                    raise FhirServerError(f"the FHIR server refused access ({response.status_code})")
                if response.status_code >= 400:
                    raise FhirServerError(f"the FHIR server answered {response.status_code}")
                chunks = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_PAGE_BYTES:
                        raise FhirServerError("the FHIR server sent a page that is too large")
                    chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise FhirServerError("the FHIR server timed out") from exc
        except httpx.HTTPError as exc:
            raise FhirServerError(f"the FHIR server could not be reached ({type(exc).__name__})") from exc
        except (httpx.InvalidURL, UnicodeError) as exc:  # not HTTPErrors: a host httpx cannot encode
            raise FhirServerError(f"the FHIR server address cannot be used ({type(exc).__name__})") from exc
        try:
            body = orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError as exc:
            raise FhirServerError("the FHIR server sent malformed JSON") from exc
        if not isinstance(body, dict):
            raise FhirServerError("the FHIR server sent JSON that is not a resource")
        return body


async def fetch_json(url: str, timeout: float) -> Any:
    """One JSON document (a client's JWKS) over HTTP; raises on any failure."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False) as client:
        response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_PAGE_BYTES:
            raise FhirServerError("the document is too large")
        return orjson.loads(response.content)
