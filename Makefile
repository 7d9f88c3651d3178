# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CODE := connectors graph simulators

.PHONY: install demo test test-fast lint schema bench playground clean lock upgrade-check docs

# `make demo` installs the package alone; `make test` adds the `test` extras (pytest, ruff, mypy,
# Playwright…), with a stamp of its own so that neither install is taken for the other. Both
# install the exact versions the tests ran, with their hashes, from a lock: requirements/demo.txt
# (the package) and requirements/test.txt (the package, the `otel` and `test` extras), written by
# `make lock` with pip-tools; `pip check` then fails the install if pyproject.toml asks for
# something the lock lacks.
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.test-installed-stamp
LOCK := requirements/demo.txt
TEST_LOCK := requirements/test.txt

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $@

$(TEST_STAMP): pyproject.toml $(TEST_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $(STAMP) $@

# Rewrites both locks from pyproject.toml, keeping every pin that still fits;
# `make lock LOCK_ARGS=--upgrade` moves every pin to the newest release its bounds allow.
# The test lock is constrained by the demo lock, so both install the same versions.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	--strip-extras --no-emit-find-links --no-emit-index-url --unsafe-package legacygraph $(LOCK_ARGS)
lock: $(TEST_STAMP)
	$(PIP_COMPILE) -o $(LOCK) pyproject.toml
	$(PIP_COMPILE) --extra test -c $(LOCK) -o $(TEST_LOCK) pyproject.toml

# Tries the newest release of every dependency, past pyproject.toml's bounds, in a throwaway
# virtualenv, and runs lint and the tests there; the locks and .venv are left as they are.
UPGRADE_VENV ?= /tmp/legacygraph-upgrade-check
upgrade-check:
	rm -rf $(UPGRADE_VENV)
	$(PYTHON) -m venv $(UPGRADE_VENV)
	$(UPGRADE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYTHON) requirements/newest.py > $(UPGRADE_VENV)/newest.txt
	$(UPGRADE_VENV)/bin/python -m pip install --quiet --upgrade -r $(UPGRADE_VENV)/newest.txt
	$(UPGRADE_VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(UPGRADE_VENV)/bin/python -m pip list --format=freeze | grep -i -E '^(strawberry-graphql|graphql-core|cross-web|starlette|httpx)=='
	$(UPGRADE_VENV)/bin/mypy
	$(UPGRADE_VENV)/bin/pytest

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/legacygraph demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check $(CODE) tests bench docs
	$(BIN)/ruff format --check $(CODE) tests bench docs
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
	$(if $(RECORDINGS),LEGACYGRAPH_RECORDINGS=$(RECORDINGS) )$(BIN)/pytest

# The quick suite while working: all but the process-level tests marked `slow` (the wheel, the
# replicas on Redis, uvicorn with two workers, Chromium), which `make test` and CI always run.
test-fast: lint $(NPM_TOOLS)
	$(BIN)/pytest -m "not slow"

schema: $(STAMP)
	$(BIN)/legacygraph export-schema

# The documentation site (mkdocs.yml, docs/) into site/. Strict: any warning, a link to a page or
# heading that is not there, fails it. The graph and configuration references are generated from
# schema.graphql and the settings classes at every build (docs/gen_reference.py).
docs: $(TEST_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Rebuilds playground/dist (committed, so that nothing else needs Node) from the pinned lockfile.
playground:
	cd playground && npm ci --no-audit --no-fund && npm run build

bench: $(STAMP)
	$(BIN)/python -m bench.discussions
	$(BIN)/python -m bench.overhead
	$(BIN)/python -m bench.courses

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
