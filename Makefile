# The two commands of the README:
#   make demo  - set up and run the platform with demo data on SQLite
#   make test  - set up and run the whole test suite (DATABASE_URL, REDIS_URL when set)

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install lint format schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Continuum on http://$(HOST):$(PORT)/  (workspaces /board/ /transfers/ /follow-ups/, dashboard /dashboard/census/, API docs /api/docs/, admin /admin/)"
	@# Without Redis, scheduled work (escalations, reminders) runs in an
	@# in-process scheduler beside the web server; both stop together.
	$(BIN)/python manage.py run_scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file schema.yml

clean:
	rm -rf $(VENV) continuum.sqlite3 staticfiles .pytest_cache
