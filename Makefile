# careops — the two commands: `make run` (the platform with a demo) and `make test` (the suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/careops
PORT ?= 8000
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test test-slow test-sqlite test-postgres install lint format migrations-check messages clean

$(BIN)/careops: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/careops

node_modules/axe-core/axe.min.js: package.json
	npm install --no-audit --no-fund --silent
	@touch $@

# Refresh the English catalogue after changing UI strings (the .mo file is committed).
messages: install
	cd careops && ../$(BIN)/careops makemessages -l en --no-obsolete --ignore '*/engine/*'
	cd careops && ../$(BIN)/careops compilemessages -l en

run: install
	$(BIN)/careops run --port $(PORT)

lint: install
	$(BIN)/ruff check careops tests $(wildcard benchmarks/*.py)
	$(BIN)/ruff format --check careops tests $(wildcard benchmarks/*.py)

format: install
	$(BIN)/ruff format careops tests $(wildcard benchmarks/*.py)
	$(BIN)/ruff check --fix careops tests $(wildcard benchmarks/*.py)

migrations-check: install
	CAREOPS_DATA_DIR=$$(mktemp -d) $(BIN)/careops makemigrations --check --dry-run

test-sqlite: install node_modules/axe-core/axe.min.js
	$(BIN)/python -m pytest -q -m "not slow"

# The tests that use the Django test database, again on PostgreSQL (pytest-django creates and
# drops test_careops); the others do not depend on the suite's database and ran in test-sqlite.
test-postgres: install
	CAREOPS_TEST_DATABASE_ONLY=1 CAREOPS_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -q -m "not browser and not slow"

test: lint migrations-check test-sqlite test-postgres

# Minutes, not seconds: the container image built from Debian's archive (mmdebstrap, podman)
# and answering /healthz. Kept out of `make test` to keep it short; CI (.ci/run) runs both.
test-slow: install
	$(BIN)/python -m pytest -q -m slow

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .ruff_cache .hypothesis
