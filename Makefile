# CompanyOS: `make run` serves the portal on SQLite with eager Celery; `make test` runs the suite on PostgreSQL + Redis.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The demo data set `make run` loads: small enough to seed in seconds.
DEMO_ARGS ?= --companies 2 --days 30 --incidents 400 --alerts 4000
# manage.py defaults to the production settings: development and the tests name theirs.
MANAGE := DJANGO_SETTINGS_MODULE=companyos.settings.local $(BIN)/python manage.py

.PHONY: venv run demo test bench screenshot clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(MANAGE) migrate --no-input
	$(MANAGE) load_demo $(DEMO_ARGS)
	$(MANAGE) create_dev_superuser

run: demo
	$(MANAGE) runserver 127.0.0.1:8000

# The layering contract (.importlinter) first: an upward import fails the build before the suite runs. Then the
# suite on every core (pytest-xdist, a test database per process), except the tests that start Celery workers:
# they share Redis databases and need the CPU to themselves, so they run after, one at a time.
test: venv
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=companyos.settings.test $(BIN)/pytest -n auto -m "not worker"
	DJANGO_SETTINGS_MODULE=companyos.settings.test $(BIN)/pytest -m worker

# docs/cockpit.png (1280 px) and docs/cockpit-phone.png (390 px) of /cockpit/ on the demo data, as the dev superuser.
screenshot: demo
	$(MANAGE) screenshot_cockpit --output docs/cockpit.png

# Benchmark on its own PostgreSQL database (dropped and recreated): SCALE=full is 1M alerts, 100k incidents,
# 90 days, 3 companies (about 10 minutes); SCALE=xl is 10M alerts, 1M incidents, 90 days, 30 companies (about an
# hour and a half); SCALE=small runs in about 90 seconds. BENCH_DATABASE_URL names another server,
# BENCH_API_PORT gunicorn's port (default: any free one).
SCALE ?= full
bench: venv
	$(BIN)/python -m demo.bench --scale $(SCALE)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
