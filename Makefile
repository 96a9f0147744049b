VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-quick lint fmt rebuild bench bench-gateway clean-data

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Start PostgreSQL, the broker, migrations and every service (Ctrl-C stops all).
run: $(STAMP)
	$(PY) -m shared.runner

## Run the whole test suite against a real PostgreSQL and a real Kafka-protocol broker.
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

## The quick subset: everything not marked slow.
test-quick: $(STAMP)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

## Rebuild the metrics derived from the event store: make rebuild START=2026-11-22T00:00:00Z END=...
rebuild: $(STAMP)
	$(PY) -m services.metrics.rebuild --start "$(START)" --end "$(END)"

## Metrics pipeline benchmark (embedded PostgreSQL + broker): prints a table.
bench: $(STAMP)
	$(PY) -m bench.pipeline $(BENCH_ARGS)

## Gateway overhead benchmark: person overview via the gateway vs straight to the services.
bench-gateway: $(STAMP)
	$(PY) -m bench.gateway $(BENCH_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean-data:
	rm -rf .data
