"""Value sets (and code systems) from a folder of FHIR JSON resources.

Each ``*.json`` file holds a ``ValueSet``, a ``CodeSystem`` or a ``Bundle`` of them. A value set
is expanded once, when the folder is loaded:

* from ``expansion.contains`` (nested ``contains`` flattened; abstract entries skipped) when
  present;
* otherwise from ``compose``: each ``include`` is its explicit ``concept`` list, or a whole code
  system found in the folder, intersected with every value set it names in ``valueSet``; each
  ``exclude`` is removed the same way. ``filter`` (which needs a terminology server) is refused.

Anything that cannot be expanded exactly (a filter, a missing code system or value set, a
cycle, a malformed resource) raises :class:`TerminologyError` at load: fail closed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cds.cql.runtime.clinical import Code, CodeSystemRef, Concept, ValueSetRef
from cds.cql.terminology.provider import TerminologyError

Key = tuple[str | None, str]


class _Expansion:
    __slots__ = ("codes", "keys", "code_strings")

    def __init__(self, codes: Iterable[Code]) -> None:
        unique: dict[Key, Code] = {}
        for c in codes:
            if c.code is not None:
                unique.setdefault((c.system, c.code), c)
        self.codes = list(unique.values())
        self.keys = frozenset(unique)
        self.code_strings = frozenset(k[1] for k in unique)

    def contains(self, value: object) -> bool:
        if value is None:
            return False
        if isinstance(value, str):
            return value in self.code_strings
        if isinstance(value, Code):
            return value.code is not None and (value.system, value.code) in self.keys
        if isinstance(value, Concept):
            keys = self.keys
            for c in value.codes:
                if c.code is not None and (c.system, c.code) in keys:
                    return True
            return False
        if isinstance(value, list):
            return any(self.contains(v) for v in value)
        raise TerminologyError(f"membership needs a String, Code or Concept, not {type(value).__name__}")


class FolderTerminology:
    """A :class:`~cds.cql.terminology.provider.TerminologyProvider` over a folder of FHIR JSON."""

    def __init__(self, path: str | Path | Iterable[dict[str, Any]]) -> None:
        self._valuesets: dict[str, dict[str, Any]] = {}
        self._codesystems: dict[str, dict[str, Any]] = {}
        resources = _read_folder(Path(path)) if isinstance(path, str | Path) else list(path)
        for res in resources:
            self._add(res)
        self._expansions: dict[str, _Expansion] = {}
        self._systems: dict[str, _Expansion] = {}
        for key in list(self._valuesets):
            self._expand_key(key, ())

    # -- loading ---------------------------------------------------------------------------
    def _add(self, res: dict[str, Any]) -> None:
        rtype = res.get("resourceType")
        if rtype == "Bundle":
            for entry in res.get("entry") or []:
                if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                    self._add(entry["resource"])
            return
        if rtype not in ("ValueSet", "CodeSystem"):
            return
        url = res.get("url")
        if not isinstance(url, str) or not url:
            raise TerminologyError(f"{rtype} {res.get('id')!r} has no url")
        table = self._valuesets if rtype == "ValueSet" else self._codesystems
        version = res.get("version")
        if isinstance(version, str) and version:
            table[f"{url}|{version}"] = res
        current = table.get(url)
        if current is None or str(current.get("version") or "") <= str(version or ""):
            table[url] = res

    def _expand_key(self, key: str, stack: tuple[str, ...]) -> _Expansion:
        if key in self._expansions:
            return self._expansions[key]
        if key in stack:
            raise TerminologyError(f"value set {key!r} includes itself ({' -> '.join(stack)})")
        vs = self._valuesets.get(key)
        if vs is None:
            raise TerminologyError(f"value set {key!r} is not in the terminology folder")
        expansion = vs.get("expansion")
        if isinstance(expansion, dict) and expansion.get("contains") is not None:
            codes = list(_flatten_contains(expansion["contains"]))
        elif isinstance(vs.get("compose"), dict):
            compose = vs["compose"]
            included = self._set_union(compose.get("include") or [], stack + (key,))
            excluded = {
                (x.system, x.code) for x in self._set_union(compose.get("exclude") or [], stack + (key,))
            }
            codes = [c for c in included if (c.system, c.code) not in excluded]
        else:
            raise TerminologyError(f"value set {key!r} has neither an expansion nor a compose")
        result = _Expansion(codes)
        self._expansions[key] = result
        return result

    def _set_union(self, sets: list[Any], stack: tuple[str, ...]) -> list[Code]:
        out: list[Code] = []
        for item in sets:
            if not isinstance(item, dict):
                raise TerminologyError(f"malformed compose entry in value set {stack[-1]!r}")
            out.extend(self._one_set(item, stack))
        return out

    def _one_set(self, item: dict[str, Any], stack: tuple[str, ...]) -> list[Code]:
        if item.get("filter"):
            raise TerminologyError(f"value set {stack[-1]!r}: compose filters need a terminology server")
        system, version = item.get("system"), item.get("version")
        members: list[Code] | None = None
        if item.get("concept"):
            if not isinstance(system, str):
                raise TerminologyError(f"value set {stack[-1]!r}: concepts without a system")
            members = [
                Code(c.get("code"), system, version, c.get("display"))
                for c in item["concept"]
                if isinstance(c, dict) and isinstance(c.get("code"), str)
            ]
        elif isinstance(system, str):
            members = list(self._system_expansion(system, version).codes)
        for ref in item.get("valueSet") or []:
            inner = self._expand_key(str(ref), stack)
            members = list(inner.codes) if members is None else [c for c in members if inner.contains(c)]
        if members is None:
            raise TerminologyError(f"value set {stack[-1]!r}: an include names neither system nor valueSet")
        return members

    def _system_expansion(self, url: str, version: str | None) -> _Expansion:
        key = f"{url}|{version}" if version else url
        if key not in self._systems:
            cs = self._codesystems.get(key)
            if cs is None:
                raise TerminologyError(f"code system {key!r} is not in the terminology folder")
            if cs.get("content") not in (None, "complete"):
                raise TerminologyError(f"code system {key!r} is not complete ({cs.get('content')})")
            self._systems[key] = _Expansion(_flatten_concepts(cs.get("concept") or [], url, version))
        return self._systems[key]

    # -- TerminologyProvider -----------------------------------------------------------------
    def has_valueset(self, url: str, version: str | None = None) -> bool:
        return (f"{url}|{version}" if version else url) in self._expansions

    def has_codesystem(self, url: str, version: str | None = None) -> bool:
        return (f"{url}|{version}" if version else url) in self._codesystems

    def _valueset(self, vs: ValueSetRef) -> _Expansion:
        found = self._expansions.get(vs.canonical)
        if found is None:
            raise TerminologyError(f"value set {vs.canonical!r} is not in the terminology folder")
        if vs.codesystems:
            allowed = {(cs.id) for cs in vs.codesystems}
            return _Expansion(c for c in found.codes if c.system in allowed)
        return found

    def expand(self, valueset: ValueSetRef) -> list[Code]:
        return list(self._valueset(valueset).codes)

    def in_valueset(self, value: object, valueset: ValueSetRef) -> bool:
        return self._valueset(valueset).contains(value)

    def in_codesystem(self, value: object, codesystem: CodeSystemRef) -> bool:
        if isinstance(value, Code) and value.system is not None and value.system != codesystem.id:
            return False
        return self._system_expansion(codesystem.id, codesystem.version).contains(value)

    def valueset_urls(self) -> list[str]:
        return sorted(self._expansions)


def _read_folder(path: Path) -> list[dict[str, Any]]:
    if not path.is_dir():
        raise TerminologyError(f"terminology folder {str(path)!r} does not exist")
    out = []
    for file in sorted(path.glob("*.json")):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TerminologyError(f"{file.name}: not readable JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise TerminologyError(f"{file.name}: not a FHIR resource")
        out.append(data)
    return out


def _flatten_contains(contains: Any) -> Iterable[Code]:
    for entry in contains or []:
        if not isinstance(entry, dict):
            raise TerminologyError("malformed expansion.contains entry")
        if isinstance(entry.get("code"), str) and not entry.get("abstract"):
            yield Code(entry["code"], entry.get("system"), entry.get("version"), entry.get("display"))
        yield from _flatten_contains(entry.get("contains"))


def _flatten_concepts(concepts: Any, system: str, version: str | None) -> Iterable[Code]:
    for c in concepts:
        if isinstance(c, dict) and isinstance(c.get("code"), str):
            yield Code(c["code"], system, version, c.get("display"))
            yield from _flatten_concepts(c.get("concept") or [], system, version)
