"""The shop as set up by following README's "Install into another shop": it checks, migrates, and ai
never reaches into a project of its own (shop/config) to work here."""
from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

from django.core.management import call_command

EXAMPLE_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = EXAMPLE_DIR.parents[1]


def test_system_checks_pass():
    out = StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()


def test_ai_has_no_missing_migrations(db):
    out = StringIO()
    call_command("makemigrations", "ai", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_every_ai_module_loads_without_aisles_own_project():
    """Import ai's every module (admin, API, tasks, views, template tags, kinds) and resolve the URL conf in
    a fresh interpreter: none of Aisle's own `shop` or `config` packages may be loaded on the way."""
    script = """
import importlib, pkgutil, sys
import django
django.setup()
import ai
names = [m.name for m in pkgutil.walk_packages(ai.__path__, "ai.") if ".migrations" not in m.name]
for name in names:
    importlib.import_module(name)
from django.urls import get_resolver
get_resolver().url_patterns
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("shop", "config"))
print(len(names), "modules;", "loaded:", loaded)
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "oscar_shop.settings", "PYTHONPATH": f"{EXAMPLE_DIR}:{REPO_ROOT}"}
    result = subprocess.run([sys.executable, "-c", script], cwd=EXAMPLE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    count, _, loaded = result.stdout.strip().partition(" modules; loaded: ")
    assert int(count) > 30 and loaded == "[]", result.stdout


def test_the_shops_celery_beat_runs_ais_sweep_and_retraining(settings):
    """README's Celery step: ai's schedule comes into the shop's beat through its Celery module."""
    from celery.schedules import crontab
    from oscar_shop.celery import app

    app.loader.import_default_modules()  # what `celery beat` does at start-up (configures the app)
    schedule = app.conf.beat_schedule
    assert {name: entry["task"] for name, entry in schedule.items()} == {
        "ai: sweep stale training runs": "ai.tasks.sweep_stale_runs",
        "ai: retrain models": "ai.tasks.retrain",
    }
    assert schedule["ai: sweep stale training runs"]["schedule"] == 60.0
    assert schedule["ai: retrain models"]["schedule"] == crontab(minute="30", hour="2")
    assert {"ai.tasks.sweep_stale_runs", "ai.tasks.retrain", "ai.tasks.train_model"} <= set(app.tasks)
