# Everything a fresh machine with Python 3.11+ and make needs: `make demo`, `make test`.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help install demo test test-sqlite test-postgresql test-mariadb test-fast lint typecheck check bench clean

help:
	@echo "make demo       run the local sandbox API and the daemon on SQLite"
	@echo "make test       lint, type-check and run the whole test suite (about 10 minutes)"
	@echo "make test-fast  the tests without whole-daemon runs, on SQLite only (under a minute)"
	@echo "make install    create .venv from the lock file"
	@echo "make bench      the benchmark suite (SQLite, PostgreSQL); writes docs/performance.md"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --all-extras --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/python -m feedamp_sync.demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The whole suite, as CI runs it: three pytest runs at once, one per backend (the tests that
# use no database run with SQLite's); most of the time goes to waiting on daemons and
# servers, so they overlap well even on two cores. Each run's output is printed whole when
# it ends; the recipe fails if any run does.
test: lint typecheck
	$(MAKE) --no-print-directory --output-sync=target -j3 test-sqlite test-postgresql test-mariadb

test-sqlite: install
	$(BIN)/pytest --backend sqlite

test-postgresql test-mariadb: install
	$(BIN)/pytest --backend $(@:test-%=%) --database-tests-only

# Leaves out the tests marked slow (daemon processes, seconds-long passes) and the server
# databases; `make test` runs everything, as CI does.
test-fast: install
	$(BIN)/pytest -m "not slow" --backend sqlite

bench: install
	$(BIN)/python -m bench all --scale full

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache demo
