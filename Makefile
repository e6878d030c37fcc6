# Two commands do all set-up: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_ARGS ?=
# pytest-xdist workers for `make test` (auto: one per core).
TEST_WORKERS ?= auto

.PHONY: install demo lint typecheck test migrate clean

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

# The first page comes as soon as the data is loaded and the quick models are trained: seeding the chat's
# intents and training the slower kinds run in a background process (log: var/log/ai_train_background.log;
# the admin's training runs page shows them), which a Ctrl-C of the server leaves running. No collectstatic:
# with DEBUG=1 whitenoise serves the static files from the apps (collectstatic is for deployments).
demo: migrate
	$(PY) manage.py load_demo $(DEMO_ARGS)
	$(PY) manage.py ai_train popularity cooccurrence --wait
	@mkdir -p var/log
	($(PY) manage.py ai_train content sasrec; $(PY) manage.py ai_seed_intents; $(PY) manage.py ai_train chat_intent demand) >>var/log/ai_train_background.log 2>&1 &
	@echo "content, sasrec, chat_intent, demand: training in the background (log var/log/ai_train_background.log)"
	$(PY) manage.py demo_credentials --host $(HOST) --port $(PORT)
	DEBUG=1 $(PY) manage.py runserver --noreload --skip-checks $(HOST):$(PORT)

# Code health: ruff and mypy (django-stubs, drf-stubs; both configured in pyproject.toml) on ai/ and shop/.
# `make test` and CI run it before the tests.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# mypy alone (django-stubs, drf-stubs on ai/ and shop/).
typecheck: install
	$(VENV)/bin/mypy

test: install lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile
	cd examples/oscar_shop && $(abspath $(PY)) -m pytest  # the ai app in a django-oscar shop (own settings, SQLite)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
