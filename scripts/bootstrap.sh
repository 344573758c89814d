#!/usr/bin/env bash
# Creates the project's virtual environment (.venv) and installs dli-cds into it.
# Usage: scripts/bootstrap.sh [extra]   (extra = "test" installs the test dependencies too)
# Installing compiles the CQL engine with mypyc (setup.py; a minute or two). It is installed again
# when pyproject.toml or setup.py changes, or when an engine source changed since it was compiled
# (importing the engine checks that). DLI_CDS_PURE_PYTHON=1 installs without compiling (no C
# compiler needed; the engine runs about half as fast).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
mode="${DLI_CDS_PURE_PYTHON:-0}"
want="${1:-base}"
fresh() { [ -f "$1" ] && [ ! pyproject.toml -nt "$1" ] && [ ! setup.py -nt "$1" ]; }
installed=false
if fresh ".venv/.installed-test-$mode" || { [ "$want" = base ] && fresh ".venv/.installed-base-$mode"; }; then
  installed=true
fi
if ! $installed || ! .venv/bin/python -c "import cds.cql" >/dev/null 2>&1; then
  rm -f .venv/.installed-*
  .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
  target="."
  if [ "$want" = "test" ]; then
    target=".[test]"
  fi
  if ! .venv/bin/python -m pip install --quiet -e "$target"; then
    if [ "$mode" = 0 ]; then
      echo "installing dli-cds failed; if compiling the CQL engine is what failed (no C compiler or" \
        "Python headers), run the same command with DLI_CDS_PURE_PYTHON=1 to install it uncompiled" >&2
    fi
    exit 1
  fi
  touch ".venv/.installed-$want-$mode"
fi
