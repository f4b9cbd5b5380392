# The two commands of the README: `make demo` and `make test`. Both create the venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: venv test test-fast lint gates demo up emulator bench clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# The gates every change passes: lint, formatting, types (strict where production code lives), and the layers
# (tests/unit/test_architecture.py runs with the unit tests).
gates: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict shared functions
	$(BIN)/mypy cli

lint: gates

# Everything, as CI runs it (.ci/run): gates, checkov on infra/, then every test.
test: gates
	scripts/checkov.sh
	$(BIN)/python -m pytest

# The fast loop: gates, then the pure tests and the emulator's own (no function processes, no gcloud).
test-fast: gates
	$(BIN)/python -m pytest -q tests/unit tests/emulator -m "not gcloud"

demo: $(STAMP)
	$(BIN)/python main.py demo

up: $(STAMP)
	$(BIN)/python main.py up

emulator: $(STAMP)
	$(BIN)/python -m emulator

bench: $(STAMP)
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.routes_burst

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
