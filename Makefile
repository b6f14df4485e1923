# Two commands: `make run` starts the gateway, `make test` passes the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: audit browser-deps run test test-postgres lint bench golden clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: create the venv, install, migrate, load demo data, start web + worker
run: $(STAMP)
	$(BIN)/vaxgate run

## browser-deps: Debian's chromium for tests/browser (Playwright drives /usr/bin/chromium)
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then apt-get update && apt-get install -y chromium; fi

## test: the whole suite on SQLite, then the database-facing tests again on PostgreSQL
## when TEST_DATABASE_URL is set or a server answers on 127.0.0.1:5432 (database `test`).
## The PostgreSQL pass leaves out what does not touch SQL differently: the pure engine,
## the voice channel (same registry calls as USSD), the golden transcripts (what a caller
## sees, fixed on SQLite), the browser tests and the fault tests
## (each fault test owns its whole stack, including a SQLite file: tests/faults/stack.py).
PG_SKIP := --ignore=tests/flows --ignore=tests/browser --ignore=tests/ivr --ignore=tests/faults \
           --ignore=tests/golden
test: $(STAMP) browser-deps
	$(BIN)/ruff check gateway workers tests bench
	$(BIN)/python .ci/audit_deps.py --allow-unreachable
	$(BIN)/vaxgate menus check
	$(BIN)/python -m pytest -q
	@$(MAKE) --no-print-directory test-postgres

test-postgres: $(STAMP)
	@url="$${TEST_DATABASE_URL:-postgresql+psycopg2://postgres@127.0.0.1:5432/test}"; \
	if $(BIN)/python -c "import sys,sqlalchemy as s; s.create_engine(sys.argv[1]).connect()" "$$url" 2>/dev/null; then \
		echo "== PostgreSQL pass: $$url"; \
		TEST_DATABASE_URL="$$url" $(BIN)/python -m pytest -q $(PG_SKIP); \
	else \
		echo "== PostgreSQL pass skipped: no server answers at $$url"; \
	fi

## audit: pip-audit of the installed packages (not vaxgate itself) against PyPI's
## vulnerability data; fails on a finding, and also when that data cannot be reached.
## `make test` runs it too, saying loudly (without failing) when PyPI does not answer.
audit: $(STAMP)
	$(BIN)/python .ci/audit_deps.py

lint: $(STAMP)
	$(BIN)/ruff check gateway workers tests bench

bench: $(STAMP)
	$(BIN)/python bench/ussd_bench.py

## golden: re-record tests/golden/testdata after an intended menu change; review its git diff
golden: $(STAMP)
	$(BIN)/python -m tests.golden.record

clean:
	rm -rf $(VENV) var .pytest_cache
