#!/usr/bin/env bash
# Installs the reference CQL toolchain (pinned by package-lock.json) for the differential oracle.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "oracle: npm is not installed; the differential oracle tests will fail" >&2
  exit 0
fi
if [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.installed
fi
