# Two commands for a fresh machine: `make run` (the demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/loyalty

.PHONY: install messages run test test-postgres lint bench clean

$(INSTALLED): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(INSTALLED)

install: $(INSTALLED) messages

messages: $(INSTALLED)
	$(PY) tools/compile_catalogs.py locale

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py migrate --database cn --noinput
	$(PY) manage.py loyalty_demo
	$(PY) manage.py runserver 127.0.0.1:8000

# The django-oscar suite runs under its own host project, so in a process of its own.
OSCAR_TESTS := --ds=tests.hosts.oscar_host tests/oscar

test: install
	$(PY) -m pytest
	$(PY) -m pytest $(OSCAR_TESTS)

test-postgres: install
	DATABASE_URL=$(PG_URL) LOYALTY_TESTS_EXPECT_POSTGRES=1 $(PY) -m pytest
	DATABASE_URL=$(PG_URL) LOYALTY_TESTS_EXPECT_POSTGRES=1 $(PY) -m pytest $(OSCAR_TESTS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

bench: install
	DATABASE_URL=$(PG_URL) $(PY) bench/run.py

clean:
	rm -rf $(VENV) .local build dist *.egg-info artifacts
