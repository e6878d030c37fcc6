"""Where runs go (in-process without a broker, else Celery by name), and the training queue's faults:
a broker that refuses the message, a run no worker picks up, two runs of one kind, auto-promotion races."""
from __future__ import annotations

from datetime import timedelta

import pytest
from celery import current_app
from django.core.management import CommandError, call_command
from django.utils import timezone
from kombu.exceptions import OperationalError

from ai import registry
from ai.models import ModelVersion, TrainingRun
from ai.schedule import beat_schedule
from ai.training import execute_run, retrain_scheduled, start_run, sweep_stale_runs
from ai.training import services as training_services
from ai.training.services import RunConflict, RunDeferred

from .test_runs import LoopKind


@pytest.fixture
def loop_kind(db, test_kind):
    return test_kind(LoopKind)

Status = TrainingRun.Status


@pytest.fixture
def sent(monkeypatch, settings):
    """A broker that records what is sent to it (AI_TASKS_IN_PROCESS off, as with CELERY_BROKER_URL set)."""
    settings.AI_TASKS_IN_PROCESS = False
    messages = []

    def send_task(name, args=None, task_id=None, queue=None, **kwargs):
        messages.append({"name": name, "args": args, "task_id": task_id, "queue": queue})

    monkeypatch.setattr(current_app, "send_task", send_task)
    return messages


def test_without_a_broker_ai_runs_the_task_in_process_even_if_celery_is_not_eager(
    loop_kind, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.CELERY_BROKER_URL = ""
    monkeypatch.setitem(current_app.conf, "task_always_eager", False)  # a host without Aisle's Celery settings
    monkeypatch.setattr(current_app, "send_task", lambda *a, **k: pytest.fail("sent to a broker"))
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run("test-loop", {"steps": 2}, via="api")
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED


def test_with_a_broker_the_run_is_sent_by_name_to_the_training_queue_after_commit(
    loop_kind, sent, settings, django_capture_on_commit_callbacks
):
    settings.AI_TRAIN_QUEUE = "gpu-big"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = start_run("test-loop", {})
    assert sent == []  # nothing before the commit
    callbacks[0]()
    assert sent == [{"name": "ai.tasks.train_model", "args": [run.pk], "task_id": run.celery_task_id, "queue": "gpu-big"}]
    run.refresh_from_db()
    assert run.status == Status.QUEUED


def test_a_broker_that_refuses_the_message_fails_the_run_with_the_reason(
    loop_kind, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.AI_TASKS_IN_PROCESS = False

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    monkeypatch.setattr(current_app, "send_task", down)
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run("test-loop", {})
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.error.startswith("Could not be sent to the Celery broker (OperationalError: Error 111")
    assert run.finished_at is not None


def test_the_sweep_fails_queued_runs_that_no_worker_picked_up_and_retraining_resumes(loop_kind, settings):
    settings.AI_QUEUE_TIMEOUT_S = 600
    settings.AI_RETRAIN_KINDS = ["test-loop"]
    lost = start_run("test-loop", {}, enqueue=False)
    fresh = start_run("test-loop", {}, enqueue=False)
    TrainingRun.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(seconds=601))
    assert retrain_scheduled() == []  # a queued run blocks the nightly retraining of its kind...

    assert sweep_stale_runs() == 1

    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.status == Status.FAILED and fresh.status == Status.QUEUED
    assert lost.error.startswith("No worker picked this run up within 600 s: is the Celery broker reachable")
    assert "'gpu' queue" in lost.error
    fresh.delete()
    assert [run.kind for run in retrain_scheduled()] == ["test-loop"]  # ...until the sweep fails it


def test_a_run_waiting_for_its_kind_is_not_swept_while_a_worker_keeps_looking_at_it(loop_kind, settings):
    settings.AI_QUEUE_TIMEOUT_S = 600
    waiting = start_run("test-loop", {}, enqueue=False)
    TrainingRun.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - timedelta(hours=2), heartbeat_at=timezone.now() - timedelta(seconds=30)
    )
    assert sweep_stale_runs() == 0


def test_refuse_mode_refuses_a_second_run_of_a_kind(loop_kind, settings, client):
    settings.AI_CONCURRENT_RUNS = "refuse"
    first = start_run("test-loop", {}, enqueue=False)
    with pytest.raises(RunConflict, match=rf"A test-loop run \(#{first.pk}\) is already queued"):
        start_run("test-loop", {}, enqueue=False)
    start_run("popularity", {}, enqueue=False)  # another kind is fine
    assert TrainingRun.objects.filter(kind="test-loop").count() == 1


def test_refuse_mode_fails_a_run_that_slipped_past_while_another_ran(loop_kind, settings):
    settings.AI_CONCURRENT_RUNS = "refuse"
    running = TrainingRun.objects.create(kind="test-loop", status=Status.RUNNING, heartbeat_at=timezone.now())
    second = TrainingRun.objects.create(kind="test-loop")
    assert execute_run(second.pk) is None
    second.refresh_from_db()
    assert second.status == Status.FAILED
    assert second.error == f"Refused: test-loop run #{running.pk} was running (AI_CONCURRENT_RUNS = refuse)."


def test_wait_mode_defers_a_second_run_on_a_worker(loop_kind, settings):
    running = TrainingRun.objects.create(kind="test-loop", status=Status.RUNNING, heartbeat_at=timezone.now())
    second = start_run("test-loop", {"steps": 2}, enqueue=False)
    with pytest.raises(RunDeferred) as raised:
        execute_run(second.pk)
    assert raised.value.behind == running.pk
    second.refresh_from_db()
    assert second.status == Status.QUEUED and second.attempts == 0
    assert second.heartbeat_at is not None and second.error == f"Waiting for test-loop run #{running.pk} to finish."


def test_wait_mode_in_process_starts_once_the_other_run_finishes(loop_kind, settings, monkeypatch):
    running = TrainingRun.objects.create(kind="test-loop", status=Status.RUNNING, heartbeat_at=timezone.now())
    second = start_run("test-loop", {"steps": 2}, enqueue=False)
    naps = []

    def nap(seconds):
        naps.append(seconds)
        TrainingRun.objects.filter(pk=running.pk).update(status=Status.SUCCEEDED, finished_at=timezone.now())

    monkeypatch.setattr(training_services, "_sleep", nap)
    run = execute_run(second.pk, wait=True)
    assert len(naps) == 1
    assert run.status == Status.SUCCEEDED and run.error == ""


def test_wait_mode_in_process_gives_up_after_the_queue_timeout(loop_kind, settings, monkeypatch):
    settings.AI_QUEUE_TIMEOUT_S = 0.001
    running = TrainingRun.objects.create(kind="test-loop", status=Status.RUNNING, heartbeat_at=timezone.now())
    second = start_run("test-loop", {}, enqueue=False)
    monkeypatch.setattr(training_services, "_sleep", lambda seconds: None)
    assert execute_run(second.pk, wait=True) is None
    second.refresh_from_db()
    assert second.status == Status.FAILED
    assert second.error == f"Waited 0.001 s for run #{running.pk} of the same kind; gave up."


def test_auto_promotion_compares_under_the_lock(make_version):
    live = make_version(ndcg=0.10, status=ModelVersion.Status.LIVE)
    candidate = make_version(ndcg=0.20)
    better = make_version(ndcg=0.30)
    registry.promote(better)  # promoted by someone else after the candidate was measured against v1
    result = registry.promote(candidate, if_beats_margin=0.0)
    assert result.status == ModelVersion.Status.CANDIDATE
    assert registry.live_version("popularity").pk == better.pk
    live.refresh_from_db()
    assert live.status == ModelVersion.Status.RETIRED


def test_maybe_auto_promote_does_not_undo_a_better_version_promoted_meanwhile(make_version, monkeypatch, settings):
    settings.AI_AUTO_PROMOTE_MARGIN = 0.0
    make_version(ndcg=0.10, status=ModelVersion.Status.LIVE)
    candidate = make_version(ndcg=0.20)
    better = make_version(ndcg=0.30)
    real_promote = registry.promote

    def someone_else_first(version, **kwargs):
        real_promote(better)  # lands between the check and the promotion
        return real_promote(version, **kwargs)

    monkeypatch.setattr(registry, "promote", someone_else_first)
    assert registry.maybe_auto_promote(candidate) is False
    assert registry.live_version("popularity").pk == better.pk


def test_the_beat_schedule_is_ais_own_and_follows_the_settings(settings):
    settings.AI_RETRAIN_CRON = "15 4 * * 1"
    settings.AI_SWEEP_INTERVAL_S = 30
    settings.AI_EVENT_RETENTION_DAYS = None
    schedule = {entry["task"]: entry["schedule"] for entry in beat_schedule().values()}
    assert set(schedule) == {"ai.tasks.sweep_stale_runs", "ai.tasks.retrain"}
    assert schedule["ai.tasks.sweep_stale_runs"] == 30.0
    retrain = schedule["ai.tasks.retrain"]
    assert (retrain.minute, retrain.hour, retrain.day_of_week) == ({15}, {4}, {1})
    settings.AI_EVENT_RETENTION_DAYS = 400
    assert "ai.tasks.purge_old_events" in {entry["task"] for entry in beat_schedule().values()}


def test_ai_tasks_are_shared_tasks_bound_to_the_hosts_app():
    from celery import Celery

    from ai import tasks

    other = Celery("another-shop", set_as_current=False)
    other.loader.import_default_modules = lambda: None
    assert "ai.tasks.train_model" in other.tasks  # shared tasks appear in every app
    assert tasks.train_model.name == "ai.tasks.train_model"


@pytest.mark.parametrize(
    "in_process, expected",
    [(True, "runs in this process (no Celery broker: AI_TASKS_IN_PROCESS)"), (False, "was sent to a Celery worker on the 'gpu' queue")],
)
def test_ai_train_says_where_the_run_went(loop_kind, settings, monkeypatch, capsys, in_process, expected):
    settings.AI_TASKS_IN_PROCESS = in_process
    monkeypatch.setattr(current_app, "send_task", lambda *a, **k: None)
    call_command("ai_train", "test-loop", "--option", "steps=2", verbosity=0)
    run = TrainingRun.objects.get()
    assert f"test-loop: run #{run.pk} {expected}" in capsys.readouterr().out


def test_ai_train_refuses_a_second_run_in_refuse_mode(loop_kind, settings):
    settings.AI_CONCURRENT_RUNS = "refuse"
    TrainingRun.objects.create(kind="test-loop", status=Status.RUNNING)
    with pytest.raises(CommandError, match="already running"):
        call_command("ai_train", "test-loop", verbosity=0)


def test_ai_train_wait_ends_when_no_worker_picks_the_run_up(loop_kind, settings, monkeypatch):
    settings.AI_TASKS_IN_PROCESS = False
    settings.AI_QUEUE_TIMEOUT_S = 0.001
    monkeypatch.setattr(current_app, "send_task", lambda *a, **k: None)
    monkeypatch.setattr("ai.management.commands.ai_train.POLL_S", 0.01)
    with pytest.raises(CommandError, match="No worker picked this run up"):
        call_command("ai_train", "test-loop", "--wait", verbosity=0)
