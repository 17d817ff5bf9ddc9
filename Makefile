# Two commands do all set-up on a fresh machine:
#   make run    runs the app on SQLite with demo data at http://127.0.0.1:5000
#   make test   installs everything and runs the whole test suite (SQLite, PostgreSQL, Chromium)
VENV ?= .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
BIN = $(VENV)/bin
FLASK = $(BIN)/flask --app fieldapp

.PHONY: install run test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	FIELDAPP_INSECURE_COOKIES=1 $(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest

clean:
	rm -rf $(VENV) instance .pytest_cache

bench: install
	$(BIN)/python -m bench.compliance --write
	$(BIN)/python -m bench.sync --write
	$(BIN)/python -m bench.tablet --write
	$(BIN)/python -m bench.fleet --write
