# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
#
# Two environments: .venv has the default install (the newest DuckDB); .venv-live adds the
# `live` extra, which pins DuckDB to the release its signed postgres/sqlite extension wheels
# were built for (1.5.5, 2-4x slower on our benchmarks), for `tutela attach` and its tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LIVE_VENV := .venv-live
LIVE_BIN := $(LIVE_VENV)/bin
LIVE_STAMP := $(LIVE_VENV)/.installed
DEMO_WS := $(shell mktemp -u /tmp/tutela-demo-XXXXXX)

.PHONY: demo test test-fast test-live lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(LIVE_STAMP): pyproject.toml
	test -x $(LIVE_BIN)/python || $(PYTHON) -m venv $(LIVE_VENV)
	$(LIVE_BIN)/python -m pip install --quiet --upgrade pip
	$(LIVE_BIN)/python -m pip install --quiet -e '.[dev,live]'
	touch $(LIVE_STAMP)

demo: $(STAMP) $(LIVE_STAMP)
	TUTELA_WORKSPACE=$(DEMO_WS) TUTELA_LIVE_BIN=$(CURDIR)/$(LIVE_BIN)/tutela \
		PATH=$(CURDIR)/$(BIN):$$PATH bash examples/demo.sh

test: $(STAMP) test-live
	@sh scripts/ensure-sarif-multitool
	$(BIN)/python -m pytest -q --ignore=tests/live

test-live: $(LIVE_STAMP)
	@sh scripts/ensure-postgres
	$(LIVE_BIN)/python -m pytest -q tests/live

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" --ignore=tests/live

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/scan.py
	$(BIN)/python benchmarks/subjects.py
	$(BIN)/python benchmarks/protect.py

clean:
	rm -rf $(VENV) $(LIVE_VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
