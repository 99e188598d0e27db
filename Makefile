# Two commands do all setup on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bytecode record-elebne record-elryan record-ecomlinx record-aleta record-odoo clean

$(STAMP): pyproject.toml setup.py connector/sync/_record_bytes.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# An editable install writes no bytecode, and with PYTHONDONTWRITEBYTECODE set (many container images) Python
# writes none either: every command would compile the package from source again (about 0.2 s a start here).
# A regular `pip install` compiles it at install time; this does the same for the checkout (only what changed).
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q connector bench

demo: bytecode
	$(BIN)/connector demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -p no:cacheprovider

bench: bytecode
	$(BIN)/python -m bench.run

# Re-record the Elebne client cassettes against a sandbox (or a real account: see README).
record-elebne: $(STAMP)
	rm -f cassettes/elebne/*.yaml
	CONNECTOR_RECORD=1 $(BIN)/pytest -p no:cacheprovider tests/test_elebne_client_cassettes.py

# The other marketplaces' and Aleta's client cassettes, each against its own fresh local sandbox.
record-elryan record-ecomlinx record-aleta: record-%: $(STAMP)
	rm -f cassettes/$*/*.yaml
	CONNECTOR_RECORD=1 $(BIN)/pytest -p no:cacheprovider tests/test_$*_client_cassettes.py

# Odoo cassettes need real servers (never started by this project): see docs/odoo.md for seeding and the
# ODOO16_URL / ODOO18_URL / ODOO_PASSWORD variables (19 over JSON-RPC: ODOO19=1; over JSON-2: ODOO19_JSON2=1 and
# the API key in ODOO19_JSON2_KEY).
record-odoo: $(STAMP)
	ODOO_RECORD=1 $(BIN)/pytest -p no:cacheprovider tests/test_odoo_*.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
