# The two commands of the quick start: `make run` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
STAMP  := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
# Where `make run` serves: `make run PORT=5001`. E-mailed links follow the port unless
# PORTAL_BASE_URL is set in the environment.
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Seconds `make run` waits before starting a scheduler that died again.
SCHEDULER_BACKOFF ?= 3
# Service tests run a second time on PostgreSQL when TEST_DATABASE_URL is set (and the
# deployment test, gunicorn on PostgreSQL, runs only then).
DB_TESTS := tests/services tests/views tests/cli tests/deploy

.PHONY: install run test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Exported to every step of `make run`: seed-demo and the web server write the e-mailed links.
run: export PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(FLASK) init
	$(FLASK) seed-demo
	@# The scheduler (due e-mail, deadlines) runs beside the web server and stops with it.
	@# If it dies (it exits non-zero on a fatal error) it is started again after a short pause.
	( trap 'kill $$pid 2>/dev/null; exit 0' TERM; \
	  while :; do \
	    $(FLASK) scheduler & pid=$$!; wait $$pid && break; \
	    echo "make run: the scheduler stopped (exit $$?); starting it again in $(SCHEDULER_BACKOFF) s" >&2; \
	    sleep $(SCHEDULER_BACKOFF) & pid=$$!; wait $$pid; \
	  done ) & trap "kill $$! 2>/dev/null" EXIT INT TERM; \
		$(FLASK) run --host $(HOST) --port $(PORT)

# With TEST_DATABASE_URL set, the PostgreSQL pass runs beside the SQLite one: each is one
# pytest process, the machine has two cores, and the passes share nothing (the PostgreSQL
# pass uses that database, the SQLite one none; ports and temporary folders are each test's
# own). The PostgreSQL pass's report follows the SQLite pass's; either failing fails the test.
test: install
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
		env -u TEST_DATABASE_URL $(BIN)/pytest; \
	else \
		log=$$(mktemp); \
		$(BIN)/pytest -p no:cacheprovider $(DB_TESTS) >$$log 2>&1 & postgres=$$!; \
		env -u TEST_DATABASE_URL $(BIN)/pytest; sqlite=$$?; \
		wait $$postgres; on_postgres=$$?; \
		echo "== the database tests again, on PostgreSQL (run beside the SQLite pass) =="; \
		cat $$log; rm -f $$log; \
		[ $$sqlite -eq 0 ] && [ $$on_postgres -eq 0 ]; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/signing.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
