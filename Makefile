# Quick start: `make run` and `make test` work on a fresh machine with only Python.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config/carectl.toml
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The desk on the demo database, with the drop-folder daemon running beside it and a sample
# lead file dropped for it (the same content twice is recorded once: exactly-once ingest).
run: $(STAMP)
	$(BIN)/carectl --config $(CONFIG) demo --if-empty
	@mkdir -p var/drop/demo_vendor
	@cp config/samples/leads_demo.csv var/drop/demo_vendor/leads_demo.csv
	@$(BIN)/carectl --config $(CONFIG) daemon > var/daemon.log 2>&1 & pid=$$!; \
	  $(BIN)/carectl --config $(CONFIG) tui; status=$$?; \
	  kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; \
	  echo "daemon stopped; its log: var/daemon.log"; exit $$status

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache
