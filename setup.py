"""Build: the CQL engine's run-time modules, and the service's pure-Python per-request steps,
compiled to C extensions with mypyc.

The engine evaluates the policy as a tree of closures; compiled by mypyc (from the same typed
Python that ``mypy --strict`` checks) it runs about twice as fast. What is compiled is listed by
:func:`native_modules`; everything else (HTTP, wire models, FHIR client, database) stays Python. The build writes
``cds/cql/native-sources.json`` (each compiled module's source hash) so that a compiled module
older than its source is refused at import (``cds/cql/__init__.py``) instead of silently
running stale code.

``DLI_CDS_PURE_PYTHON=1`` builds without compiling (no C compiler needed; slower).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
MANIFEST = ROOT / "cds" / "cql" / "native-sources.json"
# Not compiled: the parser (start-up only; its mixins are not mypyc traits), the Protocols
# (typing.runtime_checkable needs a Python class), the operator registry and the value classes
# that subclass builtins (int, dict), the command line and package initialisers.
EXCLUDED = (
    "cds/cql/syntax/",
    "cds/cql/data/retriever.py",
    "cds/cql/terminology/provider.py",
    "cds/cql/operators/registry.py",
    "cds/cql/runtime/values.py",
    "cds/cql/cli.py",
)


# Also compiled: the service's pure-Python steps on every order-sign request (the decision, the
# card and the coverage information, the JSON rule). Not the modules that import pydantic
# models (the build environment does not have pydantic: their types would be unknown).
SERVICE_MODULES = (
    "cds/cards.py",
    "cds/coverage_information.py",
    "cds/json_rules.py",
    "cds/policy.py",
)


def native_modules() -> list[str]:
    paths = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "cds" / "cql").rglob("*.py"))
    engine = [p for p in paths if not p.endswith("__init__.py") and not any(p.startswith(e) for e in EXCLUDED)]
    return [*engine, *SERVICE_MODULES]


def _ext_modules() -> list[object]:
    if os.environ.get("DLI_CDS_PURE_PYTHON") == "1":
        # An earlier compiled build left its modules beside the sources: they would be imported.
        MANIFEST.unlink(missing_ok=True)
        for built in [*(ROOT / "cds").rglob("*.so"), *ROOT.glob("dli_cds_engine__mypyc*")]:
            built.unlink()
        return []
    from mypyc.build import mypycify

    modules = native_modules()
    hashes = {p: hashlib.sha256((ROOT / p).read_bytes()).hexdigest() for p in modules}
    MANIFEST.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")
    os.chdir(ROOT)  # mypycify takes paths relative to the project
    # The build environment has mypy but not the service's dependencies (fhir.resources is read
    # lazily by the model code): their types are unknown there, which costs nothing compiled.
    # Its own type cache: the project's .mypy_cache (written by mypy run where the dependencies
    # are installed) must not make a build succeed that fails on a fresh clone.
    cache = ROOT / "build" / "mypyc-cache"
    flags = ["--ignore-missing-imports", "--no-warn-unused-ignores", f"--cache-dir={cache}"]
    return list(mypycify([*flags, *modules], opt_level="3", group_name="dli_cds_engine"))


setup(ext_modules=_ext_modules(), options={"build_ext": {"parallel": os.cpu_count() or 1}})
