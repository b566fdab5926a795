# Two commands matter: `make run` (the demo) and `make test` (everything CI checks).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench bench-smoke bench-deps clean schema

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/gateway demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
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

# Regenerate the published partner SDL after a schema change (make test checks it).
schema: $(STAMP)
	$(BIN)/python -c "from schema.partner_schema import build_schema; from schema.sdl import partner_sdl; open('schema.graphql', 'w').write(partner_sdl(build_schema()))"

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
