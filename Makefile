# Two commands on a fresh machine: `make run` and `make test`.
# `make run ARGS="--iam soft --port 4600"` passes flags to `overcast start`; the data is kept in ./.overcast
# (this checkout's own; `overcast start` alone uses ~/.local/share/overcast).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-runtime
ARGS ?=

.PHONY: run test test-fast bench lint format clean

# The server needs only the runtime dependencies; the tests add the dev extras (pytest, ruff, boto3, the CLI).
# COMPILE writes the package's bytecode, as pip does for a non-editable install: without it a process started
# with PYTHONDONTWRITEBYTECODE (CI images often set it) compiles every module from source at each start.
COMPILE := $(BIN)/python -m compileall -q overcast
$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: $(RUN_STAMP)
	$(COMPILE)
	$(BIN)/overcast start --data-dir $(CURDIR)/.overcast $(ARGS)

test: $(STAMP)
	$(COMPILE)
	$(BIN)/python -m pytest -q -ra

test-fast: $(STAMP)
	$(COMPILE)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

lint: $(STAMP)
	$(BIN)/ruff check overcast tests benchmarks
	$(BIN)/ruff format --check overcast

format: $(STAMP)
	$(BIN)/ruff format overcast tests benchmarks
	$(BIN)/ruff check --fix overcast tests benchmarks

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
