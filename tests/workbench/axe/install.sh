#!/usr/bin/env bash
# Installs axe-core (pinned by package-lock.json) for the workbench's accessibility check.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "workbench: npm is not installed; the accessibility tests will skip" >&2
  exit 0
fi
if [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.installed
fi
