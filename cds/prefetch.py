"""Prefetch: rendering templates (CDS Hooks 2.0 root-level tokens and the CDS Hooks 3.0 /
CRD 2.2 FHIRPath tokens), reading what the client sent, and deciding what must be fetched.

A key the client sent with ``null`` means "no data"; a key holding an OperationOutcome (or a
Bundle of only OperationOutcomes) failed and is fetched again; a key not sent is fetched.
Values of other keys (legacy CRD keys such as ``coverageBundle``) still contribute their
resources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from cds.errors import InvalidRequest
from cds.fhirpath import FhirPathError, compiled
from cds.hooks import OrderSignRequest

_TOKEN = re.compile(r"\{\{\s*(.+?)\s*\}\}")


@dataclass
class PrefetchState:
    resources: list[dict[str, Any]] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # key -> rendered query
    satisfied: set[str] = field(default_factory=set)


def render(template: str, request: OrderSignRequest, variables: dict[str, Any] | None = None) -> str | None:
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


def check_shapes(request: OrderSignRequest, templates: dict[str, str]) -> None:
    """Every value sent under one of our keys is null or a FHIR resource (a Bundle, a single
    resource or an OperationOutcome); anything else is a bad request, even when no order turns
    out to need the record. Values of unknown keys are not ours to judge."""
    for key, value in (request.prefetch or {}).items():
        if key in templates and value is not None:
            if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
                raise InvalidRequest(
                    f"prefetch.{key} must be a FHIR resource, a Bundle or null", f"prefetch.{key}"
                )


def read_prefetch(request: OrderSignRequest, templates: dict[str, str]) -> PrefetchState:
    state = PrefetchState()
    sent = request.prefetch or {}
    for key, value in sent.items():
        if key in templates:
            if value is None:
                state.satisfied.add(key)
                continue
            if _is_outcome(value):
                continue
            state.satisfied.add(key)
        state.resources.extend(resources_of(value))
    for key, template in templates.items():
        if key in state.satisfied:
            continue
        query = render(template, request)
        if query is not None:
            state.missing[key] = query
    return state
