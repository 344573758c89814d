"""The CQL engine: parser (``syntax``), compiler (``compiler``), runtime (``runtime``,
``operators``), data and terminology access; ``api`` is its entry point.

The engine's run-time modules are compiled with mypyc when the project is installed (see
``setup.py``). A compiled module whose source has changed since the build would run the old code,
so importing the engine refuses that: rebuild with ``scripts/bootstrap.sh``.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_ROOT = _PACKAGE.parents[1]
MANIFEST = _PACKAGE / "native-sources.json"


class StaleNativeModules(ImportError):
    """A compiled engine module is older than its Python source."""


def _compiled(source: Path) -> bool:
    return any(
        source.with_name(source.stem + suffix).exists() for suffix in importlib.machinery.EXTENSION_SUFFIXES
    )


def _check_native() -> None:
    if not MANIFEST.exists():
        return
    built: dict[str, str] = json.loads(MANIFEST.read_text())
    stale = [
        name
        for name, digest in built.items()
        if (_ROOT / name).exists()
        and _compiled(_ROOT / name)
        and hashlib.sha256((_ROOT / name).read_bytes()).hexdigest() != digest
    ]
    if stale:
        raise StaleNativeModules(
            f"compiled modules are older than their source ({', '.join(stale[:3])}"
            f"{' …' if len(stale) > 3 else ''}): rebuild it with scripts/bootstrap.sh "
            "(or install with DLI_CDS_PURE_PYTHON=1 to run the engine uncompiled)"
        )


def native() -> bool:
    """Whether the engine runs compiled (mypyc) rather than as Python source."""
    from cds.cql.compiler import queries

    return not str(queries.__file__).endswith(".py")


_check_native()
