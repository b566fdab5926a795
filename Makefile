# Two commands matter: `make run` (the demo) and `make test` (everything CI checks).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The locked dependency sets (make lock writes them from pyproject.toml, with hashes).
LOCK_DEV := requirements/dev.txt
LOCK_RUNTIME := requirements/runtime.txt
LOCK_TOOLS := requirements/tools.txt
# pip-tools and pip-audit live in their own venv, apart from the project's dependencies.
TOOLS := $(VENV)/tools
TOOLS_STAMP := $(TOOLS)/.installed
# ariadne-codegen, for the test of the client generated from schema.graphql, in its own venv:
# every release of it so far caps graphql-core below 3.3 and ruff below 0.16 (see codegen.in).
LOCK_CODEGEN := requirements/codegen.txt
CODEGEN := $(VENV)/codegen
CODEGEN_STAMP := $(CODEGEN)/.installed

.PHONY: install run test lint typecheck pytest bench bench-smoke bench-deps clean schema schema-check \
	lock audit federation-deps federation-demo federation-test

# Everything from the dev lock, every file checked against its hash; then the project itself,
# built by the locked setuptools. A changed lock or pyproject.toml installs again.
$(STAMP): pyproject.toml $(LOCK_DEV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK_DEV)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP) $(CODEGEN_STAMP)

$(TOOLS_STAMP): $(LOCK_TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --require-hashes -r $(LOCK_TOOLS)
	touch $(TOOLS_STAMP)

$(CODEGEN_STAMP): $(LOCK_CODEGEN)
	$(PYTHON) -m venv $(CODEGEN)
	$(CODEGEN)/bin/pip install --quiet --require-hashes -r $(LOCK_CODEGEN)
	touch $(CODEGEN_STAMP)

# Regenerate the locks after a change to pyproject.toml or requirements/*.in (a few minutes:
# it reads every candidate file's hash). Pins already in a lock are kept; to move them all
# to the newest allowed, `make lock LOCK_ARGS=--upgrade` (one: LOCK_ARGS="-P NAME").
# The dev set is resolved first; the runtime set (the Docker image's) takes its versions.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(TOOLS)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	$(LOCK_ARGS)
lock: $(TOOLS_STAMP)
	$(PIP_COMPILE) --extra dev -o $(LOCK_DEV) pyproject.toml requirements/installer.in
	$(PIP_COMPILE) -c $(LOCK_DEV) -o $(LOCK_RUNTIME) pyproject.toml requirements/installer.in
	$(PIP_COMPILE) -o $(LOCK_TOOLS) requirements/tools.in
	$(PIP_COMPILE) -o $(LOCK_CODEGEN) requirements/codegen.in

# Known vulnerabilities in the dev lock (a superset of the runtime lock), from PyPI's
# advisory data (its JSON API). Needs that API reachable, so it is not part of `make test`.
audit: $(TOOLS_STAMP)
	$(TOOLS)/bin/pip-audit --strict --require-hashes --disable-pip -r $(LOCK_DEV)

run: $(STAMP)
	$(BIN)/gateway demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(CODEGEN_STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

# The benchmark (issue 7, not part of `make test`): the gateway against a bare aiohttp proxy
# under wrk, medians and PASS/FAIL targets, results in bench/results/latest.json; about six
# minutes. Options pass through, e.g. `make bench BENCH_ARGS="--database postgresql"`.
bench: $(STAMP) bench-deps
	$(BIN)/python -m bench $(BENCH_ARGS)

# The same harness for seconds: every scenario ran and answered as expected; never a speed.
bench-smoke: $(STAMP) bench-deps
	$(BIN)/python -m bench --smoke $(BENCH_ARGS)

# wrk from Debian's packages when missing (CI machines start clean; apt-get needs root).
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
		echo "wrk not found: installing it with apt-get"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	}
	@command -v wrk >/dev/null 2>&1 || { echo "wrk is still missing" >&2; exit 1; }

# The federation proof (issue 10, docs/federation.md; not part of `make test`): the gateway as
# a subgraph behind Hive Gateway, composed with a second subgraph (federation/learning_paths.py).
# Its npm tools are locked in federation/package-lock.json (`npm ci`: under a minute from
# nothing). `make federation-demo` runs until Ctrl-C (FEDERATION_ARGS=--once: it does not).
FEDERATION_STAMP := federation/node_modules/.installed
$(FEDERATION_STAMP): federation/package.json federation/package-lock.json
	cd federation && npm ci --no-audit --no-fund --loglevel=error
	touch $(FEDERATION_STAMP)

federation-deps: $(FEDERATION_STAMP)

federation-demo: $(STAMP) $(FEDERATION_STAMP)
	$(BIN)/python -m federation.demo $(FEDERATION_ARGS)

# Real processes end to end (about half a minute once installed); CI runs it after `make test`.
federation-test: $(STAMP) $(FEDERATION_STAMP)
	$(BIN)/pytest federation/tests

# The GraphiQL explorer (explorer/): GraphiQL and Vite from npm, locked by its
# package-lock.json, built into explorer/dist/ (not committed), which the gateway serves at
# GET /graphql. `npm ci` runs again when the lock changes, the build when a source does; when
# up to date nothing runs. It needs Node.js 20.19+ and npm: without npm the gateway still runs
# and its page says how to build the explorer (under CI, a missing npm is an error).
.PHONY: explorer browser-deps clean-explorer
EXPLORER := explorer
EXPLORER_MODULES := $(EXPLORER)/node_modules/.installed
EXPLORER_PAGE := $(EXPLORER)/dist/index.html
EXPLORER_SOURCES := $(EXPLORER)/index.html $(EXPLORER)/vite.config.js \
	$(wildcard $(EXPLORER)/src/*.* $(EXPLORER)/src/*/*.*)

install run pytest: explorer
pytest: browser-deps
clean: clean-explorer

explorer:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory --silent $(EXPLORER_PAGE); \
	elif [ -n "$$CI" ]; then \
		echo "npm not found: the explorer cannot be built (Node.js 20.19+ and npm)" >&2; exit 1; \
	else \
		echo "npm not found: the explorer is not built (install Node.js 20.19+, then make explorer)" >&2; \
	fi

$(EXPLORER_MODULES): $(EXPLORER)/package.json $(EXPLORER)/package-lock.json
	@echo "explorer: npm ci"
	cd $(EXPLORER) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(EXPLORER_PAGE): $(EXPLORER_MODULES) $(EXPLORER_SOURCES)
	@echo "explorer: building explorer/dist/ (vite)"
	cd $(EXPLORER) && npm run --silent build

clean-explorer:
	rm -rf $(EXPLORER)/node_modules $(EXPLORER)/dist

# Debian's Chromium, for the explorer's browser test (tests/gateway/test_explorer_browser.py,
# driven by Playwright without a browser download of its own), when missing. Without root or
# sudo it stays missing: the test then skips, or fails under CI.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "chromium not found: installing Debian's package with apt-get"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		{ $$SUDO apt-get update -qq && \
		  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| { echo "could not install chromium" >&2; [ -z "$$CI" ]; }; \
	}

# Regenerate the published partner SDL after a schema change (make test checks it).
schema: $(STAMP)
	$(BIN)/python -c "from schema.partner_schema import build_schema; from schema.sdl import partner_sdl; open('schema.graphql', 'w').write(partner_sdl(build_schema()))"

# The partner schema against its last release in schema/CHANGELOG.md (make test checks it too):
# breaking changes (graphql-core's, and raised @cost / @listSize) must be recorded there.
schema-check: $(STAMP)
	$(BIN)/python -m schema.compatibility

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache federation/node_modules
