# The two commands of the README: `make demo` and `make test`. Both create the venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: venv test lint demo up emulator bench clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(STAMP)
	$(BIN)/ruff check .
	scripts/checkov.sh
	$(BIN)/python -m pytest

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
