"""The ELM of a library's declarations that need no typing: access levels, includes, code
systems, value sets, codes and concepts (the ELM JSON schema's ``*Def`` objects)."""

from __future__ import annotations

from typing import Any

from cds.cql.syntax import declarations


def access(access: str) -> str:
    return "Private" if access == "private" else "Public"


def include_def(i: declarations.IncludeDef) -> dict[str, Any]:
    out = {"localIdentifier": i.alias, "path": i.name}
    if i.version:
        out["version"] = i.version
    return out


def codesystem_def(c: declarations.CodeSystemDef) -> dict[str, Any]:
    out = {"name": c.name, "id": c.url, "accessLevel": access(c.access)}
    if c.version:
        out["version"] = c.version
    return out


def valueset_def(v: declarations.ValueSetDef) -> dict[str, Any]:
    out: dict[str, Any] = {"name": v.name, "id": v.url, "accessLevel": access(v.access)}
    if v.version:
        out["version"] = v.version
    if v.codesystems:
        out["codeSystem"] = [{"name": n} for n in v.codesystems]
    return out


def code_def(c: declarations.CodeDef) -> dict[str, Any]:
    out: dict[str, Any] = {"name": c.name, "id": c.code, "accessLevel": access(c.access)}
    if c.display is not None:
        out["display"] = c.display
    out["codeSystem"] = {"name": c.system}
    return out


def concept_def(c: declarations.ConceptDef) -> dict[str, Any]:
    out: dict[str, Any] = {"name": c.name, "accessLevel": access(c.access)}
    if c.display is not None:
        out["display"] = c.display
    out["code"] = [{"name": n} for n in c.codes]
    return out
