# iotcloud: `make run` to start everything, `make test` to run the whole suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PY_DIRS := $(wildcard services tests bench)
FRONT_STAMP := frontend/node_modules/.installed

.DEFAULT_GOAL := help
.PHONY: help install frontend wheel wheel-package run demo test lint typecheck unit integration e2e docs-shots test-frontend fuzz bench bench-quick clean

help: ## list the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "iotcloud needs Python 3.11+"'
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip>=24"
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

install: $(STAMP) ## create .venv with the locked Python dependencies

$(FRONT_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

frontend: $(FRONT_STAMP) ## build the web console (frontend/dist)
	npm run build --prefix frontend

ASSETS := services/iotcloud/assets

wheel: frontend ## dist/iotcloud-*.whl with the built console and the SQL: `pipx install dist/iotcloud-*.whl`
	$(MAKE) wheel-package

wheel-package: ## the wheel of what is built now (frontend/dist as it is), without rebuilding the console
	@test -x $(BIN)/pip || { echo "no $(VENV): run make install first"; exit 1; }
	@test -f frontend/dist/index.html || { echo "no frontend/dist: run make frontend first"; exit 1; }
	rm -rf $(ASSETS) build
	mkdir -p $(ASSETS)/db
	cp -r db/migrations db/functions $(ASSETS)/db/
	cp -r frontend/dist $(ASSETS)/console
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir dist . ; status=$$?; \
	  rm -rf $(ASSETS) build; exit $$status
	@ls -1 dist/iotcloud-*.whl

run: install frontend ## start the whole system on embedded PostgreSQL with a demo tenant
	$(BIN)/iotcloud up --demo

lint: install ## ruff
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)

typecheck: install ## mypy (strict)
	$(BIN)/mypy

unit: install ## unit tests
	$(BIN)/pytest tests/unit -q

integration: install ## integration tests (real PostgreSQL, real HTTP)
	$(BIN)/pytest tests/integration -q

test-frontend: $(FRONT_STAMP) ## frontend type check, build, initial-bundle budget and component tests
	npm run check:api --prefix frontend
	npm run build --prefix frontend
	npm run check:bundle --prefix frontend
	npm test --prefix frontend

e2e: install frontend ## browser end-to-end tests
	$(BIN)/pytest tests/e2e -q

docs-shots: install frontend ## refresh docs/console/*.png: each console page, shot by the accessibility test
	IOTCLOUD_DOCS_SHOTS=1 $(BIN)/pytest tests/e2e/test_accessibility.py -q -k light

test: lint typecheck unit integration test-frontend e2e ## the whole suite

fuzz: install ## schemathesis on both APIs of a fresh `iotcloud up --demo`, 100 examples per operation (minutes)
	$(BIN)/python -m tests.fuzz

bench-quick: install ## benchmarks, quick (under 2 minutes)
	$(BIN)/python -m bench --quick

bench: install ## benchmarks, full (minutes)
	$(BIN)/python -m bench

clean: ## remove the virtualenv, build output and local data
	rm -rf $(VENV) frontend/node_modules frontend/dist .iotcloud
