#!/usr/bin/env bash
# `make sqlc`: check every query against the migrations, then regenerate the typed database
# code so each codegen `out` directory holds exactly what sqlc.yaml produces.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/.venv/bin:$PATH"
sqlc vet
exec python tools/sqlcgen/project.py generate
