#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need (the Python test
# dependencies into .venv, the reference CQL toolchain from npm for the differential oracle),
# then lint, type check and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
# The database tests run on SQLite and on a real PostgreSQL server (Debian's package).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing PostgreSQL (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL is not installed and cannot be installed here: the PostgreSQL tests will fail" >&2
  fi
fi
# The workbench's browser tests drive headless Chromium (Debian's chromium + chromium-driver).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Chromium (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
      || echo "Chromium could not be installed: the workbench browser tests will skip" >&2
  else
    echo "Chromium is not installed and cannot be installed here: the workbench browser tests will skip" >&2
  fi
fi
if [ -x tests/workbench/axe/install.sh ]; then
  tests/workbench/axe/install.sh
fi
if [ -x tests/oracle/install.sh ]; then
  tests/oracle/install.sh
fi
echo "== ruff"
.venv/bin/ruff check cds tests benchmarks
echo "== mypy --strict cds"
.venv/bin/mypy cds
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
