# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CODE := connectors graph simulators

.PHONY: install demo test lint schema bench playground clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/legacygraph demo

lint: $(STAMP)
	$(BIN)/ruff check $(CODE) tests bench
	$(BIN)/ruff format --check $(CODE) tests bench
	$(BIN)/mypy

# The federation test's router (Apollo Gateway), pinned by its lockfile; skipped where npm is not.
ROUTER := tests/federation/node_modules/.package-lock.json
$(ROUTER): tests/federation/package-lock.json
	@if command -v npm >/dev/null; then cd tests/federation && npm ci --no-audit --no-fund --silent; \
	else echo "npm is missing: the federation test will be skipped"; fi

test: lint $(ROUTER)
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
