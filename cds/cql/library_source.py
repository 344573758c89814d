"""Where library texts come from: CQL files and FHIR ``Library`` resources in library folders.

An ``include Name version 'v'`` resolves, folder by folder, to ``Name-v.cql`` or ``Name.cql``,
else to a FHIR ``Library`` resource (any ``*.json`` file in the folder) whose ``name`` is
``Name`` (and ``version`` is ``v`` when the include gives one) and whose ``content`` has an
attachment of ``contentType`` ``text/cql`` with base64 ``data``. A folder may hold either.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cds.cql.errors import CqlError


@dataclass(frozen=True)
class LibrarySource:
    """A library's CQL text and where it came from (a file, or a Library resource's file)."""

    text: str
    origin: str


def read_cql_file(path: Path) -> str:
    """A CQL file's text; a file that is not UTF-8 is a CqlError naming the file (OSError as is)."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CqlError(f"{path}: not UTF-8 text (byte {exc.start})") from exc


def cql_of_library_resource(resource: Any, origin: str) -> str:
    """The CQL text of a FHIR Library resource (its ``text/cql`` attachment, base64)."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Library":
        raise CqlError(f"{origin}: not a FHIR Library resource")
    for attachment in resource.get("content") or []:
        if not isinstance(attachment, dict) or attachment.get("contentType") != "text/cql":
            continue
        data = attachment.get("data")
        if not isinstance(data, str):
            raise CqlError(f"{origin}: the text/cql content has no base64 data")
        try:
            return base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise CqlError(f"{origin}: the text/cql content is not base64 of UTF-8 text") from exc
    raise CqlError(f"{origin}: the Library has no text/cql content")


def read_library_resource(path: Path) -> str:
    """The CQL text of a FHIR Library resource stored as JSON in ``path``."""
    try:
        resource = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CqlError(f"{path}: not JSON ({exc})") from exc
    return cql_of_library_resource(resource, str(path))


def _library_resources(folder: Path) -> list[tuple[str, str | None, Path, Any]]:
    """(name, version, file, resource) of every Library resource with CQL in ``folder``."""
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            resource = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            continue  # not a Library resource: folders may hold other files
        if not isinstance(resource, dict) or resource.get("resourceType") != "Library":
            continue
        contents = resource.get("content") or []
        if not any(isinstance(c, dict) and c.get("contentType") == "text/cql" for c in contents):
            continue
        name, version = resource.get("name"), resource.get("version")
        if isinstance(name, str):
            out.append((name, version if isinstance(version, str) else None, path, resource))
    return out


def find_library(library_dirs: Any, name: str, version: str | None) -> LibrarySource | None:
    """The library ``name`` (at ``version``) in the first folder that has it, or None."""
    files = ([f"{name}-{version}.cql"] if version else []) + [f"{name}.cql"]
    for folder in (Path(d) for d in library_dirs):
        for file in files:
            if (folder / file).is_file():
                return LibrarySource(read_cql_file(folder / file), str(folder / file))
        for found, found_version, path, resource in _library_resources(folder):
            if found == name and (version is None or found_version == version):
                return LibrarySource(cql_of_library_resource(resource, str(path)), str(path))
    return None
