#!/usr/bin/env bash
# The quick start: installs dli-cds into .venv and serves it on 127.0.0.1:8080 with the
# embedded SQLite database under ./var/. Extra arguments go to `dli-cds serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
mkdir -p var
exec .venv/bin/dli-cds serve --host 127.0.0.1 --port 8080 "$@"
