# Two commands matter: `make run` (the demo) and `make test` (everything CI checks).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench clean schema

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

# Regenerate the published partner SDL after a schema change (make test checks it).
schema: $(STAMP)
	$(BIN)/python -c "from schema.partner_schema import build_schema; from schema.sdl import partner_sdl; open('schema.graphql', 'w').write(partner_sdl(build_schema()))"

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
