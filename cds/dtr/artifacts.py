"""The knowledge artifacts a DTR client needs for the DLI questionnaire: the CQL libraries as FHIR
``Library`` resources (``text/cql`` and ``application/elm+json``, the ELM written by our own
engine once at start-up) and the value sets they use (``ValueSet``, with their expansion).

Canonicals are fixed (``https://dli-cds.org/fhir/Library/{name}``, the value sets' own ``url``),
always referenced with their version (``url|version``). FHIRHelpers is the standard library every
CQL client carries: the libraries name it as a ``depends-on`` but it is not served here.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cds.cql.api import library_elm

LIBRARY_BASE = "https://dli-cds.org/fhir/Library/"
FHIRHELPERS = "http://hl7.org/fhir/Library/FHIRHelpers|4.0.1"
#: The libraries served, the entry point (the questionnaire's cqf-library) first.
LIBRARY_FILES = ("DLIPrepopulation.cql", "DLIMedicalNecessity.cql")
#: Value sets with fewer codes than this are expanded in a package (DTR §oper-15).
EXPAND_BELOW = 40

_HEADER = re.compile(r"^\s*library\s+(\w+)\s+version\s+'([^']+)'", re.MULTILINE)
_INCLUDE = re.compile(r"^\s*include\s+(\w+)\s+version\s+'([^']+)'", re.MULTILINE)
_VALUESET = re.compile(r"^\s*valueset\s+\"[^\"]+\"\s*:\s*'([^']+)'", re.MULTILINE)


class UnknownArtifact(LookupError):
    """No Library or ValueSet with that id or canonical."""


@dataclass(frozen=True)
class Canonical:
    url: str
    version: str | None

    @staticmethod
    def parse(text: str) -> Canonical:
        url, _, version = text.partition("|")
        return Canonical(url, version or None)


def code_count(vs: dict[str, Any]) -> int:
    """How many codes the value set's compose enumerates."""
    return sum(len(inc.get("concept", [])) for inc in vs.get("compose", {}).get("include", []))


def expand(vs: dict[str, Any], timestamp: str) -> dict[str, Any]:
    """The value set with its ``expansion`` (every enumerated concept of its compose)."""
    out = copy.deepcopy(vs)
    contains = [
        {k: v for k, v in {"system": inc["system"], "version": inc.get("version"), **concept}.items() if v}
        for inc in vs.get("compose", {}).get("include", [])
        for concept in inc.get("concept", [])
    ]
    out["expansion"] = {
        "identifier": f"urn:dli-cds:expansion:{vs['id']}:{vs.get('version', '')}",
        "timestamp": timestamp,
        "total": len(contains),
        "contains": contains,
    }
    return out


class ArtifactStore:
    """Libraries and value sets, read (and the ELM written) once at start-up."""

    def __init__(self, cql_dir: Path) -> None:
        self.valuesets: dict[str, dict[str, Any]] = {}
        for file in sorted((cql_dir / "valuesets").glob("*.json")):
            vs = json.loads(file.read_text(encoding="utf-8"))
            self.valuesets[vs["id"]] = vs
        self._by_vs_url = {vs["url"]: vs for vs in self.valuesets.values()}
        self.libraries: dict[str, dict[str, Any]] = {}
        for name in LIBRARY_FILES:
            library = self._library(cql_dir / name, cql_dir)
            self.libraries[library["id"]] = library

    def _library(self, path: Path, cql_dir: Path) -> dict[str, Any]:
        text = path.read_text(encoding="utf-8")
        header = _HEADER.search(text)
        if header is None:
            raise ValueError(f"{path}: no library declaration")
        name, version = header.group(1), header.group(2)
        elm = library_elm(path, library_dirs=[cql_dir])
        related = []
        for inc_name, inc_version in _INCLUDE.findall(text):
            ref = FHIRHELPERS if inc_name == "FHIRHelpers" else f"{LIBRARY_BASE}{inc_name}|{inc_version}"
            related.append({"type": "depends-on", "display": f"Library {inc_name}", "resource": ref})
        for url in dict.fromkeys(_VALUESET.findall(text)):
            vs = self._by_vs_url.get(url)
            if vs is None:
                raise ValueError(f"{path}: value set {url} is not in cql/valuesets")
            related.append(
                {
                    "type": "depends-on",
                    "display": f"ValueSet {vs['id']}",
                    "resource": f"{url}|{vs['version']}",
                }
            )
        return {
            "resourceType": "Library",
            "id": name,
            "meta": {"profile": ["http://hl7.org/fhir/uv/cql/StructureDefinition/cql-library"]},
            "url": f"{LIBRARY_BASE}{name}",
            "version": version,
            "name": name,
            "title": name,
            "status": "active",
            "type": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/library-type", "code": "logic-library"}
                ]
            },
            "relatedArtifact": related,
            "content": [
                {"contentType": "text/cql", "data": base64.b64encode(text.encode()).decode()},
                {
                    "contentType": "application/elm+json",
                    "data": base64.b64encode(json.dumps(elm, separators=(",", ":")).encode()).decode(),
                },
            ],
        }

    def library(self, ref: str) -> dict[str, Any]:
        """A Library by id or by canonical (``url`` or ``url|version``)."""
        if ref in self.libraries:
            return self.libraries[ref]
        canonical = Canonical.parse(ref)
        for library in self.libraries.values():
            if library["url"] == canonical.url and canonical.version in (None, library["version"]):
                return library
        raise UnknownArtifact(f"no Library {ref}")

    def valueset(self, ref: str) -> dict[str, Any]:
        """A ValueSet by id or by canonical (``url`` or ``url|version``)."""
        if ref in self.valuesets:
            return self.valuesets[ref]
        canonical = Canonical.parse(ref)
        vs = self._by_vs_url.get(canonical.url)
        if vs is None or canonical.version not in (None, vs.get("version")):
            raise UnknownArtifact(f"no ValueSet {ref}")
        return vs

    def closure(self, library_refs: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The Libraries named and, recursively, every Library and ValueSet they depend on
        (each once, in first-met order). FHIRHelpers is left to the client."""
        libraries: dict[str, dict[str, Any]] = {}
        valuesets: dict[str, dict[str, Any]] = {}
        todo = list(library_refs)
        while todo:
            ref = todo.pop(0)
            if ref == FHIRHELPERS:
                continue
            library = self.library(ref)
            if library["id"] in libraries:
                continue
            libraries[library["id"]] = library
            for artifact in library["relatedArtifact"]:
                target = artifact["resource"]
                if target.startswith(LIBRARY_BASE) or target == FHIRHELPERS:
                    todo.append(target)
                else:
                    vs = self.valueset(target)
                    valuesets.setdefault(vs["id"], vs)
        return list(libraries.values()), list(valuesets.values())

    def search_libraries(self, url: str | None) -> list[dict[str, Any]]:
        if url is None:
            return list(self.libraries.values())
        try:
            return [self.library(url)] if "/" in url else []
        except UnknownArtifact:
            return []

    def search_valuesets(self, url: str | None) -> list[dict[str, Any]]:
        if url is None:
            return list(self.valuesets.values())
        try:
            return [self.valueset(url)] if "/" in url else []
        except UnknownArtifact:
            return []
