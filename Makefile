# The two commands of the README:
#   make demo  - set up and run the platform with demo data on SQLite
#   make test  - set up and run the whole test suite (DATABASE_URL, REDIS_URL when set)

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test test-clock install lint format schema client clean

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

# The clock-sensitive suites again, with the process clock moved by libfaketime
# (Debian's faketime) to CLOCK_AT, a UTC instant; the clock runs on from there.
# .ci/run does this at the instants that are hard for sites in America/Chicago.
CLOCK_AT ?= 2027-01-01 05:40:00
test-clock: install
	@command -v faketime >/dev/null || { echo "test-clock needs faketime: apt-get install faketime"; exit 1; }
	TZ=UTC faketime -f "@$(CLOCK_AT)" $(BIN)/python -m pytest tests/services tests/api $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file schema.yml

# A Python client generated from the schema, as tests/api/test_generated_client.py makes it:
# build/continuum_client/ (put build/ on PYTHONPATH to import continuum_client).
client: install
	mkdir -p build
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --format openapi-json --file build/schema.json
	$(BIN)/openapi-python-client generate --path build/schema.json --output-path build/continuum_client \
	  --meta none --config tests/api/openapi-python-client.yml --overwrite

clean:
	rm -rf $(VENV) continuum.sqlite3 staticfiles .pytest_cache
