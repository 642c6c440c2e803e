# cardbase -- developer entry points. Needs only python3 and make.
#
#   make run          start cardbase (SQLite + demo CRM) on http://127.0.0.1:$PORT (default 5000)
#   make test         run the test suite (SQLite and a throwaway PostgreSQL), ruff and mypy
#   make bench        run the benchmarks            (extra args: BENCH_ARGS=...; reports.py and api.py
#                     also measure Directus 12, installed on first use into bench/.peers from npm;
#                     BENCH_ARGS=--peer none uses the issue's figures instead)
#   make clean        remove the virtualenv, caches and local *.db files
#   make messages     collect UI strings into the translation catalogues
#
# Test knobs: PYTEST_ARGS='-k foo -x', PYTEST_WORKERS=0 (one process; default 2),
#             CARDBASE_TEST_DB=sqlite|postgresql, CI=true.

SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

PYTEST_ARGS ?=
PYTEST_WORKERS ?= 2
BENCH_ARGS  ?=

# CI and CARDBASE_TEST_DB reach the tests from the environment (CI=true make test) or the
# command line (make test CI=true): make exports both kinds to recipes by itself.

.DEFAULT_GOAL := help
.PHONY: help venv install run test bench clean messages

help:
	@sed -n '3,11s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

# The interpreter. Debian's python3 has no ensurepip until python3-venv is installed
# (.ci/run installs it; on a workstation: apt-get install python3-venv).
$(BIN)/python:
	@echo "==> creating $(VENV) with $$($(PYTHON) --version 2>&1)"
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "==> 'python3 -m venv' failed: install python3-venv (Debian) and run make again"; exit 1; }

# Dependencies: reinstalled only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "==> installing cardbase and its test dependencies into $(VENV)"
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[test]'
	@touch $(STAMP)

venv install: $(STAMP)

run: install
	$(BIN)/cardbase run --host 127.0.0.1 --port $${PORT:-5000}

# Two pytest-xdist workers (a test dependency), each with its own PostgreSQL cluster, template
# databases and browser; --dist loadscope keeps a module's tests on one worker in file order
# (the browser modules share one site per module). PYTEST_WORKERS=0 runs in one process.
# ruff and mypy run inside the suite (tests/test_static_checks.py), so CI runs them too.
test: install
	@xdist=""; if $(BIN)/python -c 'import xdist' 2>/dev/null; then \
	  xdist="-n $(PYTEST_WORKERS) --dist loadscope"; fi; \
	echo "==> CI=$${CI:-} CARDBASE_TEST_DB=$${CARDBASE_TEST_DB:-}" \
	     "$(BIN)/python -m pytest -q -p no:cacheprovider $$xdist $(PYTEST_ARGS)"; \
	$(BIN)/python -m pytest -q -p no:cacheprovider $$xdist $(PYTEST_ARGS)

# BENCH_ARGS go to each script (e.g. BENCH_ARGS='--rows 1000000 --engines sqlite').
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/rights.py $(BENCH_ARGS)
	$(BIN)/python bench/parent_access.py $(BENCH_ARGS)
	$(BIN)/python bench/formulas.py $(BENCH_ARGS)
	$(BIN)/python bench/bulk_update.py $(BENCH_ARGS)
	$(BIN)/python bench/reports.py $(BENCH_ARGS)
	$(BIN)/python bench/api.py $(BENCH_ARGS)
	$(BIN)/python bench/web_list.py $(BENCH_ARGS)
	$(BIN)/python bench/web_card.py $(BENCH_ARGS)
	$(BIN)/python bench/solution_import.py $(BENCH_ARGS)
	$(BIN)/python bench/exact_sums.py $(BENCH_ARGS)
	$(BIN)/python bench/documents.py $(BENCH_ARGS)
	$(BIN)/python bench/imports.py $(BENCH_ARGS)
	$(BIN)/python bench/automation.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -f *.db *.db-wal *.db-shm *.db-journal

# Translations: collect the UI strings and merge them into each language's .po file
# (cardbase/platform/translations/<lang>/LC_MESSAGES/messages.po); translate the new
# entries there. The app compiles the .po files when it starts.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o build/messages.pot --no-location --sort-output cardbase
	$(BIN)/pybabel update -i build/messages.pot -d cardbase/platform/translations --no-fuzzy-matching
