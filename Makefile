# kefu — two commands matter: `make run` (product on SQLite with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The suite runs on both cores (pytest-xdist; each worker has its own test database);
# `make test XDIST=` runs it in one process.
XDIST ?= -n 2

.PHONY: run setup test test-quick lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check --require-hashes -r requirements.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . 2>/dev/null || $(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install -q --disable-pip-version-check --require-hashes -r requirements.txt -r requirements-dev.txt
	touch $@

setup: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput -v0

run: setup
	HOST=$(HOST) PORT=$(PORT) scripts/run-dev.sh

test: $(VENV)/.dev
	@scripts/ensure-chromium.sh
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# Everything but the schemathesis runs over the API (marker `fuzz`), which CI runs.
test-quick: $(VENV)/.dev
	@scripts/ensure-chromium.sh
	$(BIN)/python -m pytest $(XDIST) -m "not fuzz" $(PYTEST_ARGS)

# ruff and the import contract of the layers (scripts/lint.sh); checks only, rewrites nothing.
lint: $(VENV)/.dev
	scripts/lint.sh

clean:
	rm -rf $(VENV) var
