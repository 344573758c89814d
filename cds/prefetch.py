"""Prefetch: rendering templates (CDS Hooks 2.0 root-level tokens and the CDS Hooks 3.0 /
CRD 2.2 FHIRPath tokens), reading what the client sent, and deciding what must be fetched.

A key the client sent with ``null`` means "no data"; a key holding an OperationOutcome (or a
Bundle of only OperationOutcomes) failed and is fetched again; a key not sent is fetched unless
a value under another key answers its query (by the Bundle's ``self`` link or by content, see
:func:`answers`: clients and the Inferno CRD kit name keys their own way). Values of other keys
(legacy CRD keys such as ``coverageBundle``) always contribute their resources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote

from cds.errors import InvalidRequest
from cds.fhirpath import FhirPathError, compiled
from cds.hooks import HookRequest

_TOKEN = re.compile(r"\{\{\s*(.+?)\s*\}\}")


@dataclass
class PrefetchState:
    resources: list[dict[str, Any]] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # key -> rendered query
    satisfied: set[str] = field(default_factory=set)


def render(template: str, request: HookRequest, variables: dict[str, Any] | None = None) -> str | None:
    """The query of a template for this request, or None when a token has no value."""
    context = request.context.model_dump()
    root = {"context": context}
    failed = False

    def value(match: re.Match[str]) -> str:
        nonlocal failed
        token = match.group(1)
        if token.startswith("context.") and re.fullmatch(r"context\.[A-Za-z]+", token):
            v = context.get(token.split(".", 1)[1])
            if v is None or isinstance(v, dict | list):
                failed = True
                return ""
            return quote(str(v), safe="/,:|")
        if token in ("userPractitionerId", "userPractitionerRoleId", "userPatientId", "userRelatedPersonId"):
            kind = token[4:-2]
            user = str(context.get("userId", ""))
            if not user.startswith(kind + "/"):
                failed = True
                return ""
            return quote(user.split("/", 1)[1])
        try:
            results = compiled(token)(root, variables or {})
        except FhirPathError:
            failed = True
            return ""
        values = [str(r) for r in results if isinstance(r, str | int | float)]
        if not values:
            failed = True
            return ""
        return ",".join(quote(v, safe="/:|") for v in values)

    rendered = _TOKEN.sub(value, template)
    return None if failed else rendered


def _is_outcome(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if value.get("resourceType") == "OperationOutcome":
        return True
    if value.get("resourceType") == "Bundle":  # a Bundle holding only OperationOutcomes
        entries = value.get("entry")
        found = False
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, dict):
                continue
            resource = entry.get("resource")
            if not isinstance(resource, dict) or resource.get("resourceType") != "OperationOutcome":
                return False  # the first other resource decides
            found = True
        return found
    return False


def resources_of(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        out = []
        entries = value.get("entry")
        for entry in entries if isinstance(entries, list) else []:
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
                if resource["resourceType"] != "OperationOutcome":
                    out.append(resource)
        return out
    if isinstance(value.get("resourceType"), str) and value["resourceType"] != "OperationOutcome":
        return [value]
    return []


def check_shapes(request: HookRequest, templates: dict[str, str]) -> None:
    """Every value sent under one of our keys is null or a FHIR resource (a Bundle, a single
    resource or an OperationOutcome); anything else is a bad request, even when no order turns
    out to need the record. Values of unknown keys are not ours to judge."""
    for key, value in (request.prefetch or {}).items():
        if key in templates and value is not None:
            if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
                raise InvalidRequest(
                    f"prefetch.{key} must be a FHIR resource, a Bundle or null", f"prefetch.{key}"
                )


def read_prefetch(request: HookRequest, templates: dict[str, str]) -> PrefetchState:
    state = PrefetchState()
    sent = request.prefetch or {}
    others: list[Any] = []  # values under keys we do not advertise
    for key, value in sent.items():
        if key in templates:
            if value is None:
                state.satisfied.add(key)
                continue
            if _is_outcome(value):
                continue
            state.satisfied.add(key)
        else:
            others.append(value)
        state.resources.extend(resources_of(value))
    for key, template in templates.items():
        if key in state.satisfied:
            continue
        query = render(template, request)
        if query is None:
            continue
        if any(answers(value, query, request.patient_id) for value in others):
            state.satisfied.add(key)  # sent under another name
        else:
            state.missing[key] = query
    return state


# ---------------------------------------------------------------------- other key names
_IGNORED_PARAMETERS = frozenset({"_count", "_sort", "_format", "_summary", "page", "_elements"})
_REFERENCE_ELEMENTS = ("subject", "patient", "beneficiary")


def answers(value: Any, query: str, patient_id: str) -> bool:
    """Whether a prefetch value sent under a key we do not advertise is the answer to one of our
    queries (the client named its keys differently): by query, a searchset Bundle whose ``self``
    link is that search; by content, a resource that is the one read, or a Bundle of resources
    of the query's type only, each matching its parameters (``patient``, ``status``,
    ``category``; a query with other parameters is matched by query only)."""
    if not isinstance(value, dict) or _is_outcome(value):
        return False
    kind, params = _parse(query)
    if value.get("resourceType") == "Bundle":
        link = _self_link(value)
        if link is not None:
            sent_path, sent_params = _parse(link)
            if (sent_path == kind or sent_path.endswith("/" + kind)) and _same(
                sent_params, params, patient_id
            ):
                return True
        resources = resources_of(value)
        if "/" in kind or not resources:
            return False
        return all(r.get("resourceType") == kind and _fits(r, params, patient_id) for r in resources)
    if "/" in kind:  # a read: the resource itself
        return f"{value.get('resourceType')}/{value.get('id')}" == kind
    return False


def _parse(query: str) -> tuple[str, dict[str, set[str]]]:
    """A query's path (``Coverage``, ``Patient/123``, or a full URL) and its parameters."""
    path, _, raw = query.partition("?")
    params: dict[str, set[str]] = {}
    for name, values in parse_qs(raw, keep_blank_values=True).items():
        if name not in _IGNORED_PARAMETERS:
            params.setdefault(name, set()).update(v for value in values for v in value.split(","))
    return path.rstrip("/"), params


def _self_link(bundle: dict[str, Any]) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, dict) and link.get("relation") == "self" and isinstance(link.get("url"), str):
            return str(link["url"])
    return None


def _same(sent: dict[str, set[str]], ours: dict[str, set[str]], patient_id: str) -> bool:
    if set(sent) != set(ours):
        return False
    for name, values in ours.items():
        if name == "patient":
            if {v.rsplit("/", 1)[-1] for v in sent[name]} != {patient_id}:
                return False
        elif sent[name] != values:
            return False
    return True


def _fits(resource: dict[str, Any], params: dict[str, set[str]], patient_id: str) -> bool:
    for name, values in params.items():
        if name == "patient":
            refs = [resource.get(e) for e in _REFERENCE_ELEMENTS]
            ids = {
                r["reference"].rsplit("/", 1)[-1]
                for r in refs
                if isinstance(r, dict) and isinstance(r.get("reference"), str)
            }
            if patient_id not in ids:
                return False
        elif name == "status":
            if resource.get("status") not in values:
                return False
        elif name == "category":
            if not _codes(resource.get("category")) & values:
                return False
        else:
            return False
    return True


def _codes(value: Any) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {
        c["code"]
        for item in items
        if isinstance(item, dict)
        for c in item.get("coding") or []
        if isinstance(c, dict) and isinstance(c.get("code"), str)
    }
