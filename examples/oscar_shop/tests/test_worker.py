"""Training through a real Celery worker: `celery -A oscar_shop worker -Q gpu` over Redis, on the same
SQLite database file as the test, exactly as the shop would run it with CELERY_BROKER_URL set."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ai import registry, tracking
from ai.models import Event, ModelVersion, TrainingRun
from ai.recs.service import recommend
from ai.training import start_run

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") == "1"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
EXAMPLE_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = EXAMPLE_DIR.parents[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def broker(settings):
    """This process sends ai's tasks to Redis (ai runs them in-process only without a broker)."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if REQUIRE_SERVICES:
            pytest.fail(f"needs Redis at {REDIS_URL} (REQUIRE_SERVICES=1)")
        pytest.skip(f"needs Redis at {REDIS_URL}")
    from oscar_shop.celery import app

    settings.CELERY_BROKER_URL = REDIS_URL
    settings.AI_TASKS_IN_PROCESS = False  # as it is once CELERY_BROKER_URL is set at start-up
    queues = ["gpu", "unacked", "unacked_index", "unacked_mutex"]
    client.delete(*queues)
    saved = app.conf.broker_url
    app.conf.broker_url = REDIS_URL
    app._pool = None
    app.amqp._producer_pool = None
    yield REDIS_URL
    app.conf.broker_url = saved
    app._pool = None
    app.amqp._producer_pool = None
    client.delete(*queues)


@pytest.fixture
def worker(broker, settings, tmp_path):
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "oscar_shop.settings",
        "PYTHONPATH": os.pathsep.join([str(EXAMPLE_DIR), str(REPO_ROOT)]),
        "CELERY_BROKER_URL": broker,
        "OSCAR_SHOP_DB": str(settings.DATABASES["default"]["NAME"]),  # the test database file
        "OSCAR_SHOP_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "AI_TRAIN_DEVICE": "cpu",
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "oscar_shop", "worker", "-Q", "gpu", "--pool", "solo", "-c", "1",
        "-n", f"oscar-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
    ]
    with open(log, "w") as handle:
        proc = subprocess.Popen(command, cwd=EXAMPLE_DIR, env=env, stdout=handle, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: proc.poll() is not None or " ready." in log.read_text(), 60, "the worker to start")
        assert proc.poll() is None, f"the worker exited:\n{log.read_text()[-3000:]}"
        yield proc
    finally:
        print(log.read_text()[-4000:])  # shown when the test fails
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_a_celery_worker_trains_cooccurrence_and_the_shop_serves_it(order_history, catalogue, worker):
    # Here every order really committed, so Oscar's order_placed receiver has recorded its purchases.
    assert Event.objects.filter(event_type="purchase").count() == 36
    assert tracking.backfill_purchase_events(progress=False) == 0
    run = start_run("cooccurrence", {}, via="test")  # sent to the gpu queue once committed (autocommit here)
    assert run.status == TrainingRun.Status.QUEUED

    def finished():
        run.refresh_from_db()
        return run.is_finished

    wait_for(finished, 120, "the worker to finish the run")
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.log_tail
    assert run.worker.startswith("oscar-") and run.device.startswith("cpu")
    version = ModelVersion.objects.get(training_run=run)
    assert version.status == ModelVersion.Status.LIVE
    registry.clear_cache()
    result = recommend(placement="product_also_bought", product_id=catalogue[0].pk, limit=3)
    assert result.model_version_id == version.pk
    assert result.items[0].id == catalogue[1].pk
