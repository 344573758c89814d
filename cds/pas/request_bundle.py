"""A PAS Bundle's entries and the references between them (PAS §spec-13, §spec-16).

PAS request and inquiry Bundles are ``collection`` Bundles whose first entry is the Claim and
whose every entry has a ``fullUrl``. A reference inside them resolves the FHIR way: an absolute
URL or ``urn:uuid:`` reference names an entry's ``fullUrl`` exactly; a relative ``Type/id``
resolves against the referring entry's RESTful base (``http://ehr/fhir/Claim/c1`` →
``http://ehr/fhir/Patient/p1``), and, failing that, to the one entry of that type and id.

The body may be the Bundle itself or the operation's Parameters with the Bundle as parameter
``resource`` (the OperationDefinition's input name). Errors name the element as a FHIRPath from
``Bundle``: :class:`~cds.errors.InvalidRequest` (400) for what is not a readable Bundle,
:class:`~cds.errors.UnsupportedRequest` (422) for a PAS rule the Bundle breaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cds.errors import InvalidRequest, UnsupportedRequest

_RESTFUL = re.compile(r"^(?P<base>.+)/(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(/_history/.+)?$")
_RELATIVE = re.compile(r"^(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})$")


@dataclass(frozen=True)
class Entry:
    index: int
    full_url: str
    resource: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.resource.get("resourceType"))

    @property
    def where(self) -> str:
        return f"Bundle.entry[{self.index}].resource"


class RequestBundle:
    """The entries of a PAS Bundle, with reference resolution."""

    def __init__(self, bundle: dict[str, Any], entries: list[Entry]) -> None:
        self.bundle = bundle
        self.entries = entries
        self._by_url = {e.full_url: e for e in entries}

    @property
    def first(self) -> Entry:
        return self.entries[0]

    @property
    def identifier(self) -> dict[str, Any]:
        identifier = self.bundle.get("identifier")
        return identifier if isinstance(identifier, dict) else {}

    def resolve(self, reference: Any, source: Entry, where: str, *types: str) -> Entry:
        """The entry ``reference`` (a Reference) names, of one of ``types``; a reference that
        does not resolve inside the Bundle, or to another type, breaks PAS §spec-13 (422)."""
        ref = reference.get("reference") if isinstance(reference, dict) else None
        if not isinstance(ref, str) or not ref:
            raise UnsupportedRequest(f"{where} has no reference to a resource in the Bundle", where)
        entry = self._find(ref, source)
        if entry is None:
            raise UnsupportedRequest(
                f"{where} refers to {ref!r}, which is not an entry of the Bundle (PAS §spec-13)", where
            )
        if types and entry.type not in types:
            raise UnsupportedRequest(
                f"{where} refers to a {entry.type}; PAS requires {' or '.join(types)} here", where
            )
        return entry

    def try_resolve(self, reference: Any, source: Entry) -> Entry | None:
        ref = reference.get("reference") if isinstance(reference, dict) else None
        return self._find(ref, source) if isinstance(ref, str) and ref else None

    def _find(self, ref: str, source: Entry) -> Entry | None:
        if ref in self._by_url:
            return self._by_url[ref]
        relative = _RELATIVE.match(ref)
        if relative is None:
            return None
        restful = _RESTFUL.match(source.full_url)
        if restful is not None:
            found = self._by_url.get(f"{restful['base']}/{ref}")
            if found is not None:
                return found
        matches = [
            e for e in self.entries if e.type == relative["type"] and e.resource.get("id") == relative["id"]
        ]
        return matches[0] if len(matches) == 1 else None

    def of_type(self, resource_type: str) -> list[Entry]:
        return [e for e in self.entries if e.type == resource_type]


def unwrap(body: Any) -> dict[str, Any]:
    """The Bundle of a ``$submit``/``$inquire`` body: the body itself, or the Parameters'
    ``resource`` parameter."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object: a PAS Bundle", "Bundle")
    if body.get("resourceType") == "Parameters":
        params = body.get("parameter")
        found = [
            p.get("resource")
            for p in (params if isinstance(params, list) else [])
            if isinstance(p, dict) and p.get("name") == "resource"
        ]
        if len(found) != 1 or not isinstance(found[0], dict):
            raise InvalidRequest(
                "Parameters must carry exactly one parameter 'resource' holding the PAS Bundle",
                "Parameters.parameter",
            )
        body = found[0]
    if body.get("resourceType") != "Bundle":
        raise InvalidRequest(
            f"expected a PAS Bundle, got resourceType {body.get('resourceType')!r}", "Bundle.resourceType"
        )
    bundle: dict[str, Any] = body
    return bundle


def read_bundle(body: Any, first_type: str) -> RequestBundle:
    """A PAS request/inquiry Bundle (``first_type`` Claim) or response Bundle, read and checked
    against the Bundle profile's rules."""
    bundle = unwrap(body)
    if bundle.get("type") != "collection":
        raise UnsupportedRequest(
            f"a PAS Bundle has type 'collection', not {bundle.get('type')!r}", "Bundle.type"
        )
    identifier = bundle.get("identifier")
    if not isinstance(identifier, dict) or not isinstance(identifier.get("value"), str):
        raise UnsupportedRequest(
            "the PAS Bundle needs its identifier (the submitter's transaction identifier)",
            "Bundle.identifier",
        )
    if not isinstance(bundle.get("timestamp"), str):
        raise UnsupportedRequest("the PAS Bundle needs its timestamp", "Bundle.timestamp")
    raw = bundle.get("entry")
    if not isinstance(raw, list) or not raw:
        raise UnsupportedRequest("the PAS Bundle has no entries", "Bundle.entry")
    entries: list[Entry] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("resource"), dict):
            raise InvalidRequest(f"Bundle.entry[{i}] has no resource", f"Bundle.entry[{i}].resource")
        resource = item["resource"]
        if not isinstance(resource.get("resourceType"), str):
            raise InvalidRequest(
                f"Bundle.entry[{i}].resource has no resourceType", f"Bundle.entry[{i}].resource.resourceType"
            )
        for element in ("search", "request", "response"):
            if element in item:
                raise UnsupportedRequest(
                    f"Bundle.entry[{i}].{element} is not allowed in a PAS Bundle",
                    f"Bundle.entry[{i}].{element}",
                )
        full_url = item.get("fullUrl")
        if not isinstance(full_url, str) or not full_url:
            raise UnsupportedRequest(
                f"Bundle.entry[{i}] has no fullUrl (PAS §spec-16)", f"Bundle.entry[{i}].fullUrl"
            )
        if full_url in seen:
            raise UnsupportedRequest(
                f"Bundle.entry[{i}].fullUrl {full_url!r} appears twice (PAS §spec-14)",
                f"Bundle.entry[{i}].fullUrl",
            )
        seen.add(full_url)
        entries.append(Entry(i, full_url, resource))
    if entries[0].type != first_type:
        raise UnsupportedRequest(
            f"the first entry of a PAS Bundle must be the {first_type}, not a {entries[0].type}",
            "Bundle.entry[0].resource",
        )
    return RequestBundle(bundle, entries)
