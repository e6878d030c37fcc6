from __future__ import annotations

import time
from datetime import timedelta

import pytest
import torch
from django.utils import timezone

from ai import registry
from ai.kinds.base import ModelKind, TrainedModel
from ai.models import ModelVersion, TrainingRun
from ai.schedule import crontab_from_string
from ai.training import cancel_run, execute_run, start_run, sweep_stale_runs
from ai.training.context import RunContext
from ai.training.device import DeviceUnavailable, choose_device
from ai.training.services import worker_identity

Status = TrainingRun.Status


class LoopKind(ModelKind):
    """Fits a 1-parameter model by gradient steps, reporting each one; may cancel itself or explode."""

    name = "test-loop"
    primary_metric = "score"
    default_options = {"steps": 10, "cancel_at": 0, "explode_at": 0, "step_seconds": 0.0}

    def train(self, ctx):
        weight = torch.zeros(1, requires_grad=True)
        optimiser = torch.optim.SGD([weight], lr=0.1)
        steps = ctx.options["steps"]
        for step in range(1, steps + 1):
            if step == ctx.options["explode_at"]:
                raise RuntimeError("the GPU caught fire")
            optimiser.zero_grad()
            loss = (weight - 3.0).pow(2).sum()
            loss.backward()
            optimiser.step()
            time.sleep(ctx.options["step_seconds"])  # a step's worth of work: cancellation is read every 0.05 s
            if step == ctx.options["cancel_at"]:
                cancel_run(TrainingRun.objects.get(pk=ctx.run_id))  # as the admin would, from elsewhere
            ctx.log(f"step {step}")
            ctx.report(progress=100 * step / steps, step=step, total_steps=steps, loss=loss.item())
        return TrainedModel(tensors={"weight": weight.detach()}, config={}, metrics={"score": -loss.item()})

    def load(self, tensors, config):
        return tensors["weight"]


@pytest.fixture
def loop_kind(db, test_kind):
    return test_kind(LoopKind)


def run_now(kind, options=None, capture=None):
    run = start_run(kind, options or {}, enqueue=False)
    execute_run(run.pk)
    run.refresh_from_db()
    return run


def test_a_cancelled_run_stops_at_its_next_step(loop_kind):
    run = run_now("test-loop", {"steps": 50, "cancel_at": 3, "step_seconds": 0.06})
    assert run.status == Status.CANCELLED
    assert run.step == 3
    assert "step 4" not in run.log_tail
    assert run.finished_at is not None
    assert not ModelVersion.objects.exists()


def test_cancelling_a_queued_run_cancels_it_at_once(db, loop_kind):
    run = start_run("test-loop", {}, enqueue=False)
    assert cancel_run(run).status == Status.CANCELLED
    assert execute_run(run.pk) is None  # the task finds nothing to do
    run.refresh_from_db()
    assert run.attempts == 0


def test_a_failure_is_recorded_and_leaves_the_live_model_untouched(loop_kind, make_version, settings):
    settings.AI_REGISTRY_POLL_S = 0
    live = make_version(status=ModelVersion.Status.LIVE)
    serving = registry.live_model("popularity")
    good = run_now("test-loop", {"steps": 3})
    assert good.status == Status.SUCCEEDED
    assert good.loss_curve[-1]["loss"] < good.loss_curve[0]["loss"]

    run = run_now("test-loop", {"steps": 10, "explode_at": 4})
    assert run.status == Status.FAILED
    assert run.error == "RuntimeError: the GPU caught fire"
    assert "Traceback" in run.traceback and "the GPU caught fire" in run.traceback
    assert "step 3" in run.log_tail and "failed: the GPU caught fire" in run.log_tail
    assert run.step == 3
    assert registry.live_version("popularity") == live
    assert registry.live_model("popularity") is serving
    assert ModelVersion.objects.filter(kind="test-loop").count() == 1


def test_asking_for_cuda_without_it_fails_the_run_clearly(loop_kind, settings, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    settings.AI_TRAIN_DEVICE = "cuda"
    run = run_now("test-loop", {"steps": 2})
    assert run.status == Status.FAILED
    assert run.error.endswith(
        "AI_TRAIN_DEVICE=cuda: 'cuda' asked for, but this machine has no usable CUDA device"
        " (torch.cuda.is_available() is False)"
    )


def test_auto_device_falls_back_to_the_cpu_with_the_configured_threads(settings, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    settings.AI_TRAIN_CPU_THREADS = 1
    threads = torch.get_num_threads()
    try:
        device, label = choose_device("auto")
        assert (device.type, label, torch.get_num_threads()) == ("cpu", "cpu/1 threads", 1)
    finally:
        torch.set_num_threads(threads)
    with pytest.raises(DeviceUnavailable, match="must be one of"):
        choose_device("tpu")


def test_a_finished_run_is_never_run_again(loop_kind):
    run = run_now("test-loop", {"steps": 2})
    assert execute_run(run.pk) is None
    run.refresh_from_db()
    assert (run.status, run.attempts) == (Status.SUCCEEDED, 1)
    assert ModelVersion.objects.filter(kind="test-loop").count() == 1


def test_a_run_beating_on_another_worker_is_left_alone(loop_kind, settings, monkeypatch):
    from ai.training import services

    settings.AI_HEARTBEAT_TIMEOUT_S = 2  # beats every 0.5 s: the redelivered task watches for 1.25 s
    run = start_run("test-loop", {}, enqueue=False)
    TrainingRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, worker="elsewhere:1", attempts=1, heartbeat_at=timezone.now(), started_at=timezone.now()
    )

    def other_worker_beats(seconds):
        TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())

    monkeypatch.setattr(services, "_sleep", other_worker_beats)
    assert execute_run(run.pk) is None
    run.refresh_from_db()
    assert (run.status, run.worker, run.attempts) == (Status.RUNNING, "elsewhere:1", 1)


def test_a_run_whose_worker_just_died_is_taken_over_when_its_heartbeat_stays_silent(loop_kind, settings):
    # A prefork child killed mid-run: reject_on_worker_lost requeues the message at once, while the
    # heartbeat still looks fresh. The new attempt watches it, sees no beat, and runs the training again.
    settings.AI_HEARTBEAT_TIMEOUT_S = 2
    run = start_run("test-loop", {"steps": 2}, enqueue=False)
    TrainingRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, worker="dead-child:1", attempts=1, heartbeat_at=timezone.now(), started_at=timezone.now()
    )
    execute_run(run.pk)
    run.refresh_from_db()
    assert (run.status, run.attempts, run.worker) == (Status.SUCCEEDED, 2, worker_identity())


def test_a_run_whose_worker_was_lost_is_retried_once(loop_kind, settings):
    settings.AI_HEARTBEAT_TIMEOUT_S = 60
    run = start_run("test-loop", {"steps": 2}, enqueue=False)
    stale = timezone.now() - timedelta(minutes=5)
    TrainingRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, worker="dead:1", attempts=1, heartbeat_at=stale, started_at=stale, progress=40
    )
    execute_run(run.pk)  # the redelivered message
    run.refresh_from_db()
    assert (run.status, run.attempts) == (Status.SUCCEEDED, 2)
    assert run.worker == worker_identity()

    again = start_run("test-loop", {"steps": 2}, enqueue=False)
    TrainingRun.objects.filter(pk=again.pk).update(status=Status.RUNNING, worker="dead:2", attempts=2, heartbeat_at=stale)
    assert execute_run(again.pk) is None
    again.refresh_from_db()
    assert again.status == Status.FAILED
    assert "Gave up after 2 attempts" in again.error


def test_sweep_fails_runs_that_stopped_beating(db, loop_kind, settings):
    settings.AI_HEARTBEAT_TIMEOUT_S = 60
    now = timezone.now()
    stale = start_run("test-loop", {}, enqueue=False)
    fresh = start_run("test-loop", {}, enqueue=False)
    never_beat = start_run("test-loop", {}, enqueue=False)
    queued = start_run("test-loop", {}, enqueue=False)
    TrainingRun.objects.filter(pk=stale.pk).update(status=Status.RUNNING, heartbeat_at=now - timedelta(seconds=61))
    TrainingRun.objects.filter(pk=fresh.pk).update(status=Status.RUNNING, heartbeat_at=now - timedelta(seconds=30))
    TrainingRun.objects.filter(pk=never_beat.pk).update(status=Status.RUNNING, started_at=now - timedelta(minutes=5))

    assert sweep_stale_runs(now) == 2
    statuses = dict(TrainingRun.objects.values_list("pk", "status"))
    assert statuses == {stale.pk: Status.FAILED, fresh.pk: Status.RUNNING, never_beat.pk: Status.FAILED, queued.pk: Status.QUEUED}
    stale.refresh_from_db()
    assert "stopped beating" in stale.error and stale.finished_at == now


def test_progress_writes_are_throttled_but_the_last_one_is_kept(db, loop_kind, django_assert_num_queries):
    run = start_run("test-loop", {}, enqueue=False)
    clock = [100.0]
    ctx = RunContext(run, torch.device("cpu"), clock=lambda: clock[0])
    ctx.report(progress=10, step=1, loss=1.0)  # the first report writes at once
    for step in range(2, 6):  # 0.1 s apart: only the cancel check queries the database
        clock[0] += 0.1
        with django_assert_num_queries(1):
            ctx.report(progress=10 * step, step=step, loss=1.0 / step)
    stored = TrainingRun.objects.get(pk=run.pk)
    assert (stored.step, stored.progress, len(stored.loss_curve)) == (1, 9.5, 1)
    clock[0] = 100.5  # 0.5 s after the first write
    ctx.report(progress=60, step=6, loss=0.1)
    stored.refresh_from_db()
    assert (stored.step, stored.progress, len(stored.loss_curve)) == (6, 57.0, 6)
    ctx.report(progress=70, step=7, loss=0.05)
    ctx.flush()  # what the pipeline does after training: the last report is always written
    stored.refresh_from_db()
    assert (stored.step, stored.loss_curve[-1]) == (7, {"step": 7, "epoch": 0, "loss": 0.05})
    assert stored.heartbeat_at is not None


@pytest.mark.parametrize(
    "expression, fields",
    [
        ("30 2 * * *", ({30}, {2})),
        ("*/15 1-3 * * 1", ({0, 15, 30, 45}, {1, 2, 3})),
    ],
)
def test_retrain_cron_is_parsed_from_five_fields(expression, fields):
    schedule = crontab_from_string(expression)
    assert (schedule.minute, schedule.hour) == fields


def test_a_malformed_retrain_cron_is_refused():
    with pytest.raises(ValueError, match="5 fields"):
        crontab_from_string("every night")


def test_scheduled_retraining_skips_unregistered_kinds_and_runs_in_progress(db, settings, loop_kind):
    from ai.training import retrain_scheduled

    settings.AI_RETRAIN_KINDS = ["test-loop", "popularity", "no-such-kind"]
    TrainingRun.objects.create(kind="popularity", status=Status.RUNNING)
    runs = retrain_scheduled()
    assert [(run.kind, run.requested_via) for run in runs] == [("test-loop", "schedule")]


@pytest.mark.parametrize(
    "task, queue",
    [("ai.tasks.train_model", "gpu"), ("ai.tasks.sweep_stale_runs", "default"), ("ai.tasks.retrain", "default")],
)
def test_training_goes_to_the_gpu_queue_and_everything_else_to_default(task, queue):
    from config.celery import app

    route = app.amqp.router.route({}, task, args=(), kwargs={})
    assert route["queue"].name == queue


def test_the_training_task_acknowledges_late_and_requeues_on_worker_loss():
    from ai.tasks import train_model

    assert train_model.acks_late is True and train_model.reject_on_worker_lost is True
