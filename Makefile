# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CODE := connectors graph simulators

.PHONY: install demo test lint schema bench playground clean

# `make demo` installs the package alone; `make test` adds the `test` extras (pytest, ruff, mypy,
# Playwright…), with a stamp of its own so that neither install is taken for the other.
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.test-installed-stamp

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/legacygraph demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check $(CODE) tests bench
	$(BIN)/ruff format --check $(CODE) tests bench
	$(BIN)/mypy

# The tests' npm tools (the federation router, …): each tests/<dir>/package-lock.json is installed
# into its folder when its node_modules is missing or older than the lockfile. Where npm is
# missing, the tests that need them are skipped.
NPM_LOCKS := $(wildcard tests/*/package-lock.json)
NPM_TOOLS := $(NPM_LOCKS:%/package-lock.json=%/node_modules/.package-lock.json)
tests/%/node_modules/.package-lock.json: tests/%/package-lock.json
	@if command -v npm >/dev/null; then cd tests/$* && npm ci --no-audit --no-fund --silent; \
	else echo "npm is missing: the tests that need tests/$*/node_modules will be skipped"; fi

test: lint $(NPM_TOOLS)
	$(BIN)/pytest

schema: $(STAMP)
	$(BIN)/legacygraph export-schema

# Rebuilds playground/dist (committed, so that nothing else needs Node) from the pinned lockfile.
playground:
	cd playground && npm ci --no-audit --no-fund && npm run build

bench: $(STAMP)
	$(BIN)/python -m bench.discussions
	$(BIN)/python -m bench.overhead
	$(BIN)/python -m bench.courses

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
