# Two commands do all set-up on a fresh machine:
#   make run    runs the app on SQLite with demo data at http://127.0.0.1:5000
#   make test   installs everything and runs the whole test suite (SQLite, PostgreSQL, Chromium)
#   make lint   runs the linters CI runs: ruff (check and format) and ESLint
VENV ?= .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
BIN = $(VENV)/bin
FLASK = $(BIN)/flask --app fieldapp

.PHONY: install run test lint bench clean

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

lint: install node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	npx --no-install eslint static/js service_worker

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules

bench: install
	$(BIN)/python -m bench.compliance --write
	$(BIN)/python -m bench.permanency --write
	$(BIN)/python -m bench.sync --write
	$(BIN)/python -m bench.profile_sync --runs 5 --write after
	$(BIN)/python -m bench.tablet --children 25 150 500 --contacts 7 7 10 --write
	$(BIN)/python -m bench.fleet --write
	$(BIN)/python -m bench.peer --write
	$(BIN)/python -m bench.sustained --write
