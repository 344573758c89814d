"""SMART scopes (App Launch 2.x, "Scopes and Launch Context") for system clients.

A scope is ``system/<Type|*>.<permissions>``: SMART 2 permissions are the letters of ``cruds`` in
that order (create, read, update, delete, search); the SMART 1 forms ``read`` (= ``rs``),
``write`` (= ``cud``) and ``*`` (= ``cruds``) are read too. Only the ``system/`` context is
granted here (Backend Services has no user or patient); a scope with a query (``?...``) or any
other form is not understood and never granted.

What a route needs is a :class:`ScopeRequirement` written as scopes (``system/Claim.c``): it is
met when, for each letter, some granted scope for that type (or ``*``) has it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

PERMISSION_ORDER = "cruds"
V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}
_SCOPE = re.compile(r"^system/(?P<type>\*|[A-Z][A-Za-z]{0,63})\.(?P<perm>[cruds]{1,5}|read|write|\*)$")


class ScopeSyntaxError(ValueError):
    """A scope this server does not understand (in configuration: refused at load)."""


@dataclass(frozen=True)
class Scope:
    resource_type: str  # a FHIR type or "*"
    permissions: frozenset[str]  # letters of "cruds"
    text: str

    def covers(self, resource_type: str, letter: str) -> bool:
        return self.resource_type in ("*", resource_type) and letter in self.permissions


def parse_scope(text: str) -> Scope | None:
    """The scope, or None when it is not a ``system/`` resource scope this server grants."""
    match = _SCOPE.match(text)
    if match is None:
        return None
    perm = match["perm"]
    letters = V1_PERMISSIONS.get(perm, perm)
    if perm not in V1_PERMISSIONS and "".join(sorted(letters, key=PERMISSION_ORDER.index)) != letters:
        return None  # SMART 2: letters in the order c, r, u, d, s, each once
    return Scope(match["type"], frozenset(letters), text)


def parse_scopes(texts: Iterable[str]) -> list[Scope]:
    """Configured scopes: every one must be understood (fail closed at load)."""
    scopes = []
    for text in texts:
        scope = parse_scope(text)
        if scope is None:
            raise ScopeSyntaxError(
                f"scope {text!r} is not a SMART system scope (system/<Type|*>.<cruds letters|read|write>)"
            )
        scopes.append(scope)
    return scopes


def grant(requested: str, allowed: Iterable[Scope]) -> list[str]:
    """The requested scopes (space-separated) that the client's allowed scopes cover, in the
    order requested, each once. A requested scope is granted only if it is wholly covered."""
    allowed = list(allowed)
    granted: list[str] = []
    for text in requested.split():
        scope = parse_scope(text)
        if scope is None or text in granted:
            continue
        if scope.resource_type == "*":
            ok = all(
                any(a.resource_type == "*" and letter in a.permissions for a in allowed)
                for letter in scope.permissions
            )
        else:
            ok = all(
                any(a.covers(scope.resource_type, letter) for a in allowed) for letter in scope.permissions
            )
        if ok:
            granted.append(text)
    return granted


@dataclass(frozen=True)
class ScopeRequirement:
    """What a route needs, e.g. ``ScopeRequirement.of("system/Questionnaire.rs")``."""

    needed: tuple[Scope, ...]

    @classmethod
    def of(cls, *texts: str) -> ScopeRequirement:
        return cls(tuple(parse_scopes(texts)))

    def met_by(self, granted: Iterable[str]) -> bool:
        scopes = [s for s in (parse_scope(t) for t in granted) if s is not None]
        return all(
            any(g.covers(need.resource_type, letter) for g in scopes)
            for need in self.needed
            for letter in need.permissions
        )

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.needed)


# The route table: what each FHIR route of this service needs. DTR (§spec-120) names its
# scopes; PAS defers to HRex, which names none for Claim (it only requires server-to-server
# OAuth): $submit creates a Claim (c), $inquire reads/searches them (rs).
QUESTIONNAIRE_PACKAGE = ScopeRequirement.of("system/Questionnaire.rs")
QUESTIONNAIRE_READ = ScopeRequirement.of("system/Questionnaire.rs")
LIBRARY_READ = ScopeRequirement.of("system/Library.rs")
VALUESET_READ = ScopeRequirement.of("system/ValueSet.rs")
VALUESET_EXPAND = ScopeRequirement.of("system/ValueSet.rs")
CLAIM_SUBMIT = ScopeRequirement.of("system/Claim.c")
CLAIM_INQUIRE = ScopeRequirement.of("system/Claim.rs")

# By route path as the app declares it (any method). /fhir/metadata and the SMART discovery
# document are open: not in this table.
ROUTE_SCOPES: dict[str, ScopeRequirement] = {
    "/fhir/Questionnaire/$questionnaire-package": QUESTIONNAIRE_PACKAGE,
    "/fhir/Questionnaire": QUESTIONNAIRE_READ,
    "/fhir/Questionnaire/dli-cp-mp-101": QUESTIONNAIRE_READ,
    "/fhir/Library": LIBRARY_READ,
    "/fhir/Library/{id}": LIBRARY_READ,
    "/fhir/ValueSet": VALUESET_READ,
    "/fhir/ValueSet/$expand": VALUESET_EXPAND,
    "/fhir/ValueSet/{id}": VALUESET_READ,
    "/fhir/Claim/$submit": CLAIM_SUBMIT,
    "/fhir/Claim/$inquire": CLAIM_INQUIRE,
}
SUPPORTED_SCOPES = sorted({s.text for r in ROUTE_SCOPES.values() for s in r.needed})
