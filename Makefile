# Two commands do all setup on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench record-elebne clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/connector demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m bench.run

# Re-record the Elebne client cassettes against a sandbox (or a real account: see README).
record-elebne: $(STAMP)
	rm -f cassettes/elebne/*.yaml
	CONNECTOR_RECORD=1 $(BIN)/pytest -p no:cacheprovider tests/test_elebne_client_cassettes.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
