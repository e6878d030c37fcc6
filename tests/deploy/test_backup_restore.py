"""Backup and restore as docs/operations.md describes it, on PostgreSQL: `pg_dump` of the database plus an
archive of the artifact storage (MEDIA_ROOT), restored into a fresh database and directory, from which a new
process serves the restored live model (same version, same recommendations)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.db import connection

from ai import registry
from ai.recs import service
from ai.recs.algorithms.popularity import Popularity
from ai.recs.data import build_interactions
from tests.factories import CategoryFactory, ProductFactory
from tests.recs_serving.conftest import make_popular, register_live

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]

SERVE = """
import json, django
django.setup()
from ai.recs.service import recommend
recs = recommend(placement="home", visitor_id="after-restore", limit=4)
print(json.dumps({"version": recs.model_version_id, "items": [item.id for item in recs.items]}))
"""


def pg_env(settings_dict: dict) -> dict:
    return {**os.environ, "PGHOST": settings_dict["HOST"] or "127.0.0.1", "PGPORT": str(settings_dict["PORT"] or 5432),
            "PGUSER": settings_dict["USER"], "PGPASSWORD": settings_dict["PASSWORD"]}


def test_dump_restore_into_a_fresh_database_serves_the_restored_live_model(require_postgres, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    registry.clear_cache()
    service.reset_caches()
    category = CategoryFactory()
    products = [ProductFactory(category=category, title=f"Item {n}") for n in range(6)]
    make_popular(products)
    data = build_interactions()
    live = register_live("popularity", Popularity(half_life_days=0).fit(data), data.item_keys)
    before = service.recommend(placement="home", visitor_id="after-restore", limit=4)
    assert before.model_version_id == live.pk

    # Backup: the database, then the artifact storage.
    db = connection.settings_dict
    env = pg_env(db)
    dump, media_archive = tmp_path / "aisle.dump", tmp_path / "media.tar.gz"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), db["NAME"]], env=env, check=True)
    with tarfile.open(media_archive, "w:gz") as archive:
        archive.add(settings.MEDIA_ROOT, arcname=".")

    # Restore into a fresh database and a fresh directory.
    restored_db = f"{db['NAME']}_restored"
    subprocess.run(["dropdb", "--if-exists", restored_db], env=env, check=True)
    subprocess.run(["createdb", restored_db], env=env, check=True)
    try:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored_db, str(dump)], env=env,
                       check=True)
        restored_media = tmp_path / "restored-media"
        restored_media.mkdir()
        with tarfile.open(media_archive) as archive:
            archive.extractall(restored_media, filter="data")

        url = f"postgres://{db['USER']}:{db['PASSWORD']}@{env['PGHOST']}:{env['PGPORT']}/{restored_db}"
        served = subprocess.run(
            [sys.executable, "-c", SERVE], cwd=ROOT, capture_output=True, text=True, timeout=180,
            env={**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(restored_media),
                 "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "ERROR"},
        )
        assert served.returncode == 0, served.stderr[-3000:]
        after = json.loads(served.stdout.strip().splitlines()[-1])
    finally:
        connection.close()
        subprocess.run(["dropdb", "--if-exists", "--force", restored_db], env=env, check=True)
    assert after == {"version": live.pk, "items": [item.id for item in before.items]}
    assert len(after["items"]) == 3  # AI_MAX_PER_CATEGORY: all six products share one category
