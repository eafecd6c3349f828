# Charter: every target has a `## help` line; `make help` lists them.
VENV ?= .venv
PYTHON ?= python3
CHARTER := $(VENV)/bin/charter
PYTEST := $(VENV)/bin/pytest
CHARTER_PORT ?= 8000
DEMO_SESSIONS ?= 200
export CHARTER_DATABASE_URL ?= sqlite:///charter.db

.DEFAULT_GOAL := help
.PHONY: help install run test test-pass test-fast lint format bench screenshots clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## Create .venv and install Charter with its test tools

run: install ## Create the SQLite database, load demo data, print an API token and the web sign-in, and serve
	$(CHARTER) migrate
	$(CHARTER) demo --sessions $(DEMO_SESSIONS)
	@TOKEN=$$($(CHARTER) token create --email admin@example.com --name "make run") && \
	echo "" && \
	echo "API token for admin@example.com: $$TOKEN" && \
	echo "Try:" && \
	echo "  curl -H \"Authorization: Bearer $$TOKEN\" \"http://127.0.0.1:$(CHARTER_PORT)/api/v1/projects/1/sessions?per_page=15\"" && \
	echo ""
	@$(CHARTER) user password --email admin@example.com --password charter-demo 2>/dev/null && \
	echo "Web UI: http://127.0.0.1:$(CHARTER_PORT)/  sign in as admin@example.com, password charter-demo" && \
	echo ""
	CHARTER_LOG_FORMAT=$${CHARTER_LOG_FORMAT:-text} $(CHARTER) serve --port $(CHARTER_PORT)

test: install ## Run the whole suite on SQLite, then on PostgreSQL if CHARTER_TEST_PG_URL is set
	@rc=0; \
	echo "== SQLite"; \
	$(MAKE) --no-print-directory test-pass TEST_DB= || rc=1; \
	if [ -n "$$CHARTER_TEST_PG_URL" ]; then \
		echo "== again on PostgreSQL ($$CHARTER_TEST_PG_URL)"; \
		$(MAKE) --no-print-directory test-pass TEST_DB="$$CHARTER_TEST_PG_URL" || rc=1; \
	else \
		echo "== CHARTER_TEST_PG_URL is not set: PostgreSQL run skipped"; \
	fi; \
	exit $$rc

# The suites that start a real `charter serve`, SIGKILL it or measure load: they run one
# at a time, never beside each other or beside the parallel workers.
SERIAL_SUITES := load or crash or shutdown or browser or conformance

# One database's pass (TEST_DB empty: SQLite): every other test in parallel (a module
# per worker, so module fixtures are built once), then the serial suites. Both halves
# always run; the pass fails if either did.
test-pass:
	@rc=0; \
	CHARTER_TEST_DATABASE_URL="$(TEST_DB)" $(PYTEST) -n auto --dist loadfile -m "not ($(SERIAL_SUITES))" || rc=1; \
	CHARTER_TEST_DATABASE_URL="$(TEST_DB)" $(PYTEST) -m "$(SERIAL_SUITES)" || rc=1; \
	exit $$rc

test-fast: install ## Everything not marked slow, in parallel (SQLite unless CHARTER_TEST_DATABASE_URL is set)
	$(PYTEST) -n auto --dist loadfile -m "not slow"

bench: install ## Benchmark at 1,000,000 sessions on SQLite and PostgreSQL; writes bench/RESULTS.md
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(VENV)/bin/python bench/run.py
	@test -d tests/conformance/node_modules || (cd tests/conformance && npm ci --no-audit --no-fund)
	$(VENV)/bin/python bench/automation.py
	$(VENV)/bin/python bench/attachments.py

screenshots: install ## Regenerate docs/screenshots with the browser tests (needs /usr/bin/chromium)
	CHARTER_SCREENSHOTS=$(CURDIR)/docs/screenshots CHARTER_TEST_DATABASE_URL= \
		$(VENV)/bin/pytest -q tests/web/test_e2e_session.py tests/web/test_e2e_dashboard.py

lint: install ## Ruff (lint + format check) and mypy --strict (src, tests, bench, scripts)
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/mypy

format: install ## Format the code with ruff
	$(VENV)/bin/ruff format src tests bench scripts
	$(VENV)/bin/ruff check --fix src tests bench scripts

clean: ## Remove the venv, caches and the local SQLite database
	rm -rf $(VENV) test-output .pytest_cache .mypy_cache .ruff_cache .hypothesis charter.db charter.db-wal charter.db-shm charter.db-lock
