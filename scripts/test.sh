#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need (the Python test
# dependencies into .venv, the reference CQL toolchain from npm for the differential oracle),
# then lint, type check and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
if [ -x tests/oracle/install.sh ]; then
  tests/oracle/install.sh
fi
echo "== ruff"
.venv/bin/ruff check cds tests benchmarks
echo "== mypy --strict cds"
.venv/bin/mypy cds
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
