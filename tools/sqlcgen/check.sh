#!/usr/bin/env bash
# `make sqlc-check`: fail when a query does not fit the migrations, or when the committed
# generated code differs from what a fresh run produces (the diff is printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/.venv/bin:$PATH"
sqlc vet
exec python tools/sqlcgen/project.py check
