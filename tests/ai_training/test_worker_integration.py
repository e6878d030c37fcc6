"""A real Celery worker on the `gpu` queue, over Redis, against the PostgreSQL test database.

Killing a worker mid-run is tested both ways: the solo worker killed outright (the sweep fails the run)
and a prefork child killed (the message is requeued and the run is retried once, to success).

Each test starts `celery -A config worker -Q gpu --pool solo -c 1` as a subprocess and always stops it.
To look at a run while it is in flight without racing it, the test holds a lock on the ModelVersion
table (from a connection of its own): the worker trains, reports its progress, and then waits at
the registry's insert until the test lets go.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from ai import registry
from ai.models import ModelVersion, TrainingRun
from ai.training import execute_run, start_run, sweep_stale_runs
from tests.factories import StaffFactory

from .conftest import make_events

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
Status = TrainingRun.Status


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def broker(redis_url, settings):
    """The test process sends tasks to Redis instead of running them in-process."""
    import redis

    settings.AI_TASKS_IN_PROCESS = False
    from config.celery import app

    client = redis.Redis.from_url(redis_url)
    keys = ["gpu", "unacked", "unacked_index", "unacked_mutex"]
    client.delete(*keys)
    saved = {name: app.conf[name] for name in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=redis_url, task_always_eager=False)
    # Eager calls of earlier tests leave pools bound to the old broker URL.
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield redis_url
    finally:
        app.conf.update(saved)
        app._pool = None
        app.amqp._producer_pool = None
        client.delete(*keys)  # nothing of this test may be redelivered to a later worker


@pytest.fixture
def start_worker(require_postgres, broker, tmp_path):
    """start_worker(**env) -> the worker's Popen; every worker is stopped after the test."""
    workers: list[tuple[subprocess.Popen, Path]] = []

    def start(pool: str = "solo", **extra_env: str) -> subprocess.Popen:
        log = tmp_path / f"worker-{len(workers)}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.ai_training.worker_settings",
            "CELERY_BROKER_URL": broker,
            "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "AI_TRAIN_DEVICE": "cpu",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "gpu", "--pool", pool, "-c", "1",
            "-n", f"test-gpu-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
        ]
        with open(log, "w") as handle:
            proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
        workers.append((proc, log))
        try:
            wait_for(lambda: proc.poll() is not None or " ready." in log.read_text(), 120, 0.2, "the worker to start")
        except AssertionError:
            raise AssertionError(f"the worker did not start:\n{log.read_text()[-3000:]}") from None
        assert proc.poll() is None, f"the worker exited:\n{log.read_text()[-3000:]}"
        return proc

    yield start
    for proc, log in workers:
        print(f"--- {log.name} ---\n{log.read_text()[-4000:]}")  # shown when the test fails
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


@contextmanager
def registry_paused():
    """Hold a lock that makes a worker wait before it inserts its ModelVersion (from our own connection)."""
    db = settings.DATABASES["default"]
    conn = psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"]
    )
    try:
        conn.execute("LOCK TABLE ai_modelversion IN SHARE ROW EXCLUSIVE MODE")
        yield
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture
def api(db):
    client = APIClient()
    client.force_login(StaffFactory())
    return client


@pytest.fixture
def events(catalogue):
    return make_events(catalogue, shoppers=60)


def run_state(api, run_id: int) -> dict:
    response = api.get(f"/api/v1/training-runs/{run_id}/")
    assert response.status_code == 200, response.content
    return response.json()


def test_worker_trains_through_the_api_and_serving_uses_the_promoted_version(api, events, catalogue, start_worker, settings):
    settings.AI_REGISTRY_POLL_S = 0
    start_worker()
    with registry_paused():
        response = api.post("/api/v1/training-runs/", {"kind": "popularity", "options": {"half_life_days": 7}}, format="json")
        assert response.status_code == 202, response.content
        run_id = response.json()["id"]
        assert response.json()["status"] == Status.QUEUED
        in_flight = wait_for(
            lambda: (state := run_state(api, run_id))["status"] == Status.RUNNING and state["progress"] > 0
            and state["loss_curve"] and state,
            30,
            what="progress and a loss point from the worker",
        )
        assert 0 < in_flight["progress"] < 100
        assert in_flight["device"].startswith("cpu") and in_flight["worker"].startswith("test-gpu-")
        assert in_flight["loss_curve"] and in_flight["total_steps"] >= 1
    done = wait_for(lambda: (state := run_state(api, run_id))["status"] in TrainingRun.FINISHED and state, 30, what="the run to finish")
    assert done["status"] == Status.SUCCEEDED, done["error"] + done["log_tail"]
    assert done["progress"] == 100 and done["attempts"] == 1
    # What the same run computes in-process on these seeded events (tests/ai_training/test_pipeline.py's way)
    assert done["metrics"] == pytest.approx(
        {"hr@10": 42 / 60, "ndcg@10": 0.319696, "coverage@10": 1.0, "heldout_nll": 2.067913, "users_evaluated": 60},
        abs=1e-5,
    )

    version = ModelVersion.objects.get(training_run_id=run_id)
    assert version.status == ModelVersion.Status.CANDIDATE  # the workers' settings turn auto-promotion off
    assert registry.live_model("popularity") is None
    response = api.post(f"/api/v1/models/{version.pk}/promote/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == ModelVersion.Status.LIVE

    loaded = registry.live_loaded("popularity")
    assert loaded is not None and loaded.version_id == version.pk
    assert loaded.model.top_keys(5) == [catalogue[i].pk for i in (0, 1, 3, 2, 7)]


def test_killing_the_worker_mid_run_fails_the_run_and_keeps_the_live_model(api, events, start_worker, settings):
    settings.AI_REGISTRY_POLL_S = 0
    settings.AI_HEARTBEAT_TIMEOUT_S = 2
    first = start_run("popularity", {}, enqueue=False)
    execute_run(first.pk)  # in this process: v1, promoted as the first version
    live = registry.live_version("popularity")
    assert live is not None and live.version == 1
    serving = registry.live_model("popularity")

    worker = start_worker(AI_HEARTBEAT_TIMEOUT_S="2")
    with registry_paused():
        response = api.post("/api/v1/training-runs/", {"kind": "popularity", "options": {}}, format="json")
        run_id = response.json()["id"]
        state = wait_for(
            lambda: (s := run_state(api, run_id))["status"] == Status.RUNNING and s["progress"] > 0 and s,
            30,
            what="the run to be in flight",
        )
        # The worker's heartbeat keeps beating while it is busy.
        wait_for(lambda: run_state(api, run_id)["heartbeat_at"] != state["heartbeat_at"], 10, what="a heartbeat")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    # Nothing tells the database that the worker died: the run looks alive until its heartbeat is stale.
    assert TrainingRun.objects.get(pk=run_id).status == Status.RUNNING
    time.sleep(2.2)
    assert sweep_stale_runs() == 1

    run = TrainingRun.objects.get(pk=run_id)
    assert run.status == Status.FAILED
    assert "stopped beating" in run.error
    assert list(ModelVersion.objects.values_list("version", "status")) == [(1, ModelVersion.Status.LIVE)]
    assert registry.live_version("popularity") == live
    assert registry.live_model("popularity") is serving


def test_a_worker_process_lost_mid_run_is_retried_once_and_succeeds(api, events, start_worker, settings):
    """A prefork child killed mid-run: the message is requeued at once (reject_on_worker_lost), the next
    child watches the run's heartbeat, sees it silent, and trains again (attempt 2) to success."""
    settings.AI_REGISTRY_POLL_S = 0
    start_worker(pool="prefork", AI_HEARTBEAT_TIMEOUT_S="2")
    with registry_paused():
        response = api.post("/api/v1/training-runs/", {"kind": "popularity", "options": {}}, format="json")
        run_id = response.json()["id"]
        first = wait_for(
            lambda: (s := run_state(api, run_id))["status"] == Status.RUNNING and s["progress"] > 0 and s,
            30,
            what="the first attempt to be in flight",
        )
        assert first["attempts"] == 1
        child_pid = int(first["worker"].rsplit(":", 1)[1])
        os.kill(child_pid, signal.SIGKILL)
        second = wait_for(
            lambda: (s := run_state(api, run_id))["attempts"] == 2 and s["progress"] > 0 and s,
            40,
            what="the second attempt to be in flight",
        )
        assert second["status"] == Status.RUNNING and second["worker"] != first["worker"]
    done = wait_for(lambda: (s := run_state(api, run_id))["status"] in TrainingRun.FINISHED and s, 30, what="the run to finish")
    assert (done["status"], done["attempts"]) == (Status.SUCCEEDED, 2), done["error"]
    assert list(ModelVersion.objects.values_list("version", "training_run_id")) == [(1, run_id)]
