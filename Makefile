# Open Model Gateway — developer entry points. `make dev` runs everything; `make test` checks everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
BUF := tools/node/node_modules/.bin/buf
SRC_DIRS := proto/python/src libs/common/src libs/providers/src services/proxy/src services/control/src \
            services/accounting/src services/health/src tools/devstack/src tools/fakes/src tools/bench/src

.PHONY: help bootstrap dev stack test web-build web-test web-client web-client-check pytest lint fmt typecheck proto proto-check buf-lint sqlc sqlc-check migrate config-docs conformance-docs bench soak clean

help:
	@echo "make dev          run the whole gateway on embedded Postgres/Valkey/NATS (Ctrl-C stops it)"
	@echo "make test         lint, contract drift checks and every test (unit, integration, end-to-end)"
	@echo "make web-build    build the admin console (control serves it at http://127.0.0.1:8081/)"
	@echo "make web-client   regenerate the console's API types;  web-client-check: fail when stale"
	@echo "make proto        regenerate gateway_proto from proto/gateway/v1"
	@echo "make proto-check  fail when the committed generated code is stale; buf lint"
	@echo "make sqlc         regenerate the database access code;  make sqlc-check: fail when stale"
	@echo "make migrate      apply every service's migrations to DATABASE_URL (or the dev stack)"
	@echo "make bench        proxy vs. an nginx canned upstream with wrk, one pinned worker (BENCH_ARGS=--profile)"
	@echo "make soak         10 minutes of c=64 load through the proxy: RSS growth and open fds (SOAK_SECONDS=600)"
	@echo "make conformance-docs  run the provider conformance suite and write its matrix into docs/providers"
	@echo "make config-docs  regenerate docs/configuration.md from the settings classes"
	@echo "make lint         ruff and mypy --strict;  make fmt: format"

# A fresh machine has only Python 3.11+ and Node 20+: install uv into .tools, then the locked workspace.
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml $(wildcard */*/pyproject.toml) $(wildcard */pyproject.toml)
	$(UV) sync --frozen --all-packages --quiet
	@touch $@

$(BUF): tools/node/package.json tools/node/package-lock.json
	npm ci --prefix tools/node --no-audit --no-fund --loglevel=error
	@touch $@

bootstrap: $(VENV)/.synced

dev: bootstrap web-build
	$(PY) -m gateway_devstack dev --root .run/dev

stack: bootstrap
	$(PY) -m gateway_devstack stack --root .run/dev

test: bootstrap lint proto-check sqlc-check web-client-check web-test pytest

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	@touch $@

web-build: web/node_modules/.package-lock.json
	npm run --prefix web build

web-test: web/node_modules/.package-lock.json
	npm test --prefix web

# Regenerate the UI's API types from web/openapi.json (refresh that first with
# web/scripts/fetch-openapi http://127.0.0.1:8081/schema/openapi.json).
web-client: web/node_modules/.package-lock.json
	npm run --prefix web client

web-client-check: web/node_modules/.package-lock.json
	npm run --prefix web client-check

pytest: bootstrap
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(SRC_DIRS)
	MYPYPATH=tools/sqlcgen $(VENV)/bin/mypy tools/sqlcgen/sqlcgen tools/sqlcgen/gen.py tools/sqlcgen/project.py

fmt: bootstrap
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

proto: bootstrap
	tools/scripts/gen_proto.sh

proto-check: bootstrap $(BUF)
	cd proto && ../$(BUF) lint
	@tmp=$$(mktemp -d) && tools/scripts/gen_proto.sh $$tmp >/dev/null && \
	  if ! diff -r -q $$tmp/v1 proto/python/src/gateway_proto/v1 -x __pycache__; then \
	    rm -rf $$tmp; echo "gateway_proto is stale: did you forget to run make proto?"; exit 1; fi; rm -rf $$tmp
	@echo "proto: generated code is up to date"

sqlc: bootstrap
	tools/sqlcgen/generate.sh

sqlc-check: bootstrap
	tools/sqlcgen/check.sh

bench: bootstrap
	$(PY) -m gateway_bench $(BENCH_ARGS)

soak: bootstrap
	$(PY) -m gateway_bench --soak $(or $(SOAK_SECONDS),600) --root .run/soak

conformance-docs: bootstrap
	$(VENV)/bin/pytest tests/conformance -q -p no:cacheprovider --conformance-matrix docs/providers/README.md

config-docs: bootstrap
	$(PY) tools/scripts/gen_config_docs.py

migrate: bootstrap
	$(PY) -m gateway_devstack migrate --root .run/dev

clean:
	rm -rf $(VENV) $(TOOLS) .run tools/node/node_modules tools/oidc-idp/node_modules web/node_modules web/dist .mypy_cache .ruff_cache .pytest_cache
