# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
#
# One environment, .venv: the default install has everything, live PostgreSQL/SQLite sources
# included (Arrow ADBC drivers, on the current DuckDB).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_WS := $(shell mktemp -u /tmp/tutela-demo-XXXXXX)

.PHONY: demo test test-fast test-live lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# `make test` adds the `spark` extra (pyspark ships Spark's jars: about 450 MB, a minute to
# install), with its own stamp so `make demo` stays light. When pip cannot install it, the
# Spark tests skip and the run says so in capitals; the stamp is left out so the next
# `make test` tries again.
SPARK_STAMP := $(VENV)/.installed-spark
$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]' && touch $(SPARK_STAMP) \
	    || echo "make: pip could not install tutela[spark]: the Spark tests will skip" >&2

demo: $(STAMP)
	TUTELA_WORKSPACE=$(DEMO_WS) PATH=$(CURDIR)/$(BIN):$$PATH bash examples/demo.sh

# The live-source tests start their own PostgreSQL: ensure-postgres installs the server
# binaries first when they are missing (without them those tests skip, loudly); the Spark
# tests need Java 17+, which ensure-java installs the same way.
# The suite runs on every CPU (pytest-xdist; each worker starts its own PostgreSQL on its own
# port and directory): `make test TEST_JOBS=0` runs it in one process. `--dist loadgroup`
# keeps the tests marked xdist_group (all of tests/spark/) on one worker: one Spark JVM and
# one standalone cluster for the run, not one per worker.
TEST_JOBS ?= auto
test: $(STAMP) $(SPARK_STAMP)
	@sh scripts/ensure-postgres
	@sh scripts/ensure-java
	@sh scripts/ensure-chromium
	@sh scripts/ensure-sarif-multitool
	$(BIN)/python -m pytest -q -n $(TEST_JOBS) --dist loadgroup --durations=15

test-live: $(STAMP)
	@sh scripts/ensure-postgres
	$(BIN)/python -m pytest -q tests/live

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/python scripts/import_graph.py

bench: $(STAMP)
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/scan.py
	$(BIN)/python benchmarks/subjects.py
	$(BIN)/python benchmarks/protect.py
	$(BIN)/python benchmarks/report.py
	$(BIN)/python benchmarks/lake.py
	$(BIN)/python benchmarks/purge.py
	$(BIN)/python benchmarks/startup.py

clean:
	rm -rf $(VENV) .venv-live .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
