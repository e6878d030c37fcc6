"""Starting, running, cancelling and sweeping training runs.

`start_run` is what the admin, the API, the CLI and the beat schedule call. `execute_run` is the body
of the Celery task `ai.tasks.train_model`: idempotent on the run id, so that a redelivered message
(acks_late + reject_on_worker_lost) never trains twice at once, and a run that already finished is
never touched again.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback as tb
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from ai.conf import ai_settings
from ai.kinds import get_kind
from ai.kinds.base import RunCancelled, TrainedModel
from ai.models import ModelVersion, TrainingRun

from . import dispatch
from .context import ProgressListener, RunContext
from .device import choose_device, describe

logger = logging.getLogger("ai.training")

Status = TrainingRun.Status
_sleep = time.sleep  # (tests replace it to act as another worker while this one waits)
# A run is attempted at most this many times (the second after its worker was lost mid-run).
MAX_ATTEMPTS = 2


class RunConflict(ValueError):
    """A run of this kind is already queued or running, and AI_CONCURRENT_RUNS is `refuse`."""


class RunDeferred(Exception):
    """The run's kind is busy with another run (AI_CONCURRENT_RUNS = wait): try again later."""

    def __init__(self, run_id: int, behind: int) -> None:
        super().__init__(f"Training run #{run_id} waits for run #{behind} of the same kind")
        self.run_id = run_id
        self.behind = behind


ACTIVE = (Status.QUEUED, Status.RUNNING)


def start_run(kind: str, options: dict[str, Any] | None = None, *, user=None, via: str = "", enqueue: bool = True) -> TrainingRun:
    """Validate, create a queued run and schedule its task once the surrounding transaction commits.

    Raises ValueError (unknown kind, unknown, ill-typed or out-of-range option) and RunConflict (another
    run of the kind is active and AI_CONCURRENT_RUNS is `refuse`) before anything is stored. The task goes
    to Celery, or runs in this process after the commit when there is no broker (`ai.training.dispatch`).
    `enqueue=False` leaves the run queued for the caller to execute in-process (`ai_train --wait`
    without a broker, to show live progress).
    """
    if options is not None and not isinstance(options, dict):
        raise ValueError("options must be an object of option names to values")
    cleaned = get_kind(kind).clean_options(options or {})
    if ai_settings.CONCURRENT_RUNS == "refuse":
        active = TrainingRun.objects.filter(kind=kind, status__in=ACTIVE).order_by("pk").first()
        if active is not None:
            raise RunConflict(f"A {kind} run (#{active.pk}) is already {active.status}; wait for it to finish or cancel it.")
    run = TrainingRun.objects.create(
        kind=kind,
        options=cleaned,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        requested_via=via[:64],
        celery_task_id=str(uuid.uuid4()),
    )
    if enqueue:
        transaction.on_commit(lambda: enqueue_run(run))
    return run


def enqueue_run(run: TrainingRun) -> None:
    """Hand the run to a worker, or train it here when there is no broker (after the commit)."""
    if dispatch.in_process():
        execute_run(run.pk, wait=True)
        return
    try:
        dispatch.send("ai.tasks.train_model", [run.pk], task_id=run.celery_task_id or None, queue=ai_settings.TRAIN_QUEUE)
    except dispatch.DispatchError as exc:
        TrainingRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
            status=Status.FAILED,
            error=f"Could not be sent to the Celery broker ({exc}); nothing was trained. Start it again once the broker is up.",
            finished_at=timezone.now(),
        )


def cancel_run(run: TrainingRun) -> TrainingRun:
    """Ask a run to stop. A queued run is cancelled at once; a running one stops at its next step."""
    now = timezone.now()
    TrainingRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
        status=Status.CANCELLED, cancel_requested=True, finished_at=now
    )
    TrainingRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(cancel_requested=True)
    run.refresh_from_db()
    return run


def sweep_stale_runs(now: datetime | None = None) -> int:
    """Fail runs whose worker stopped beating (killed, lost power…), and queued runs that no worker picked
    up within AI_QUEUE_TIMEOUT_S (broker down, or no worker on the queue). Returns how many were failed."""
    now = now or timezone.now()
    return _sweep_dead(now) + _sweep_never_picked_up(now)


def _sweep_never_picked_up(now: datetime) -> int:
    """Queued runs no worker has claimed or looked at (a waiting run is looked at every AI_RETRY_WAITING_S)."""
    timeout = float(ai_settings.QUEUE_TIMEOUT_S)
    cutoff = now - timedelta(seconds=timeout)
    unseen = Q(heartbeat_at__isnull=True, created_at__lt=cutoff) | Q(heartbeat_at__lt=cutoff)
    count = TrainingRun.objects.filter(Q(status=Status.QUEUED, started_at__isnull=True) & unseen).update(
        status=Status.FAILED,
        error=(
            f"No worker picked this run up within {timeout:g} s: is the Celery broker reachable, and is a worker "
            f"consuming the {ai_settings.TRAIN_QUEUE!r} queue? Nothing was trained."
        ),
        finished_at=now,
    )
    if count:
        logger.warning("Failed %d queued training run(s) that no worker picked up", count)
    return count


def _sweep_dead(now: datetime) -> int:
    timeout = float(ai_settings.HEARTBEAT_TIMEOUT_S)
    cutoff = now - timedelta(seconds=timeout)
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    started = Q(status=Status.RUNNING) | Q(status=Status.QUEUED, started_at__isnull=False)
    count = TrainingRun.objects.filter(started & stale).update(
        status=Status.FAILED,
        error=f"The worker stopped beating (no heartbeat for over {timeout:g} s): it was probably killed or lost.",
        finished_at=now,
    )
    if count:
        logger.warning("Failed %d training run(s) whose worker stopped beating", count)
    return count


def retrain_scheduled() -> list[TrainingRun]:
    """The beat schedule's retraining: one run per kind in AI_RETRAIN_KINDS not already in progress."""
    from ai.kinds import all_kinds

    registered = all_kinds()
    runs = []
    for kind in ai_settings.RETRAIN_KINDS:
        if kind not in registered:
            logger.info("Scheduled retraining skips %s: no such kind is registered", kind)
            continue
        if TrainingRun.objects.filter(kind=kind, status__in=[Status.QUEUED, Status.RUNNING]).exists():
            logger.info("Scheduled retraining skips %s: a run is already queued or running", kind)
            continue
        runs.append(start_run(kind, {}, via="schedule"))
    return runs


def worker_identity(hostname: str | None = None) -> str:
    return f"{hostname or socket.gethostname()}:{os.getpid()}"


def heartbeat_interval() -> float:
    return max(0.5, min(10.0, float(ai_settings.HEARTBEAT_TIMEOUT_S) / 4))


class _Heartbeat(threading.Thread):
    """Beats a running run's heartbeat while the worker lives, even through long steps without reports."""

    def __init__(self, run_id: int, worker: str) -> None:
        super().__init__(name=f"heartbeat-run-{run_id}", daemon=True)
        self.run_id = run_id
        self.worker = worker
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(heartbeat_interval()):
                TrainingRun.objects.filter(pk=self.run_id, status=Status.RUNNING, worker=self.worker).update(
                    heartbeat_at=timezone.now()
                )
        except Exception:  # never let the heartbeat take the worker down
            logger.exception("Heartbeat of run #%s stopped", self.run_id)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


def _silent_heartbeat(run_id: int) -> datetime | None:
    """The heartbeat of a RUNNING run if its worker has stopped beating, else None.

    A message comes back while its run looks fresh when the worker's process died a moment ago
    (reject_on_worker_lost requeues at once). Watch the heartbeat for a few beat intervals: a live
    owner beats, a dead one does not.
    """
    seen = TrainingRun.objects.filter(pk=run_id).values_list("status", "worker", "heartbeat_at").first()
    deadline = time.monotonic() + 2.5 * heartbeat_interval()
    while time.monotonic() < deadline:
        _sleep(heartbeat_interval() / 2)
        current = TrainingRun.objects.filter(pk=run_id).values_list("status", "worker", "heartbeat_at").first()
        if current != seen:
            return None
    return seen[2] if seen and seen[0] == Status.RUNNING else None


def _claim(run_id: int, worker: str, *, silent_since: datetime | None = None) -> TrainingRun | None:
    """Mark the run RUNNING for this worker, or return None when there is nothing to do.

    A run RUNNING elsewhere with a fresh heartbeat is left alone, unless its heartbeat was watched,
    did not move, and is still `silent_since`: then its worker is dead and this is the retry.
    """
    now = timezone.now()
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            logger.warning("Training run #%s does not exist (deleted?): nothing to do", run_id)
            return None
        if run.is_finished:
            logger.info("Training run #%s already %s: nothing to do", run_id, run.status)
            return None
        if run.status == Status.RUNNING:
            fresh = run.heartbeat_at and now - run.heartbeat_at < timedelta(seconds=float(ai_settings.HEARTBEAT_TIMEOUT_S))
            owner_dead = silent_since is not None and run.heartbeat_at == silent_since
            if fresh and run.worker != worker and not owner_dead:
                logger.info("Training run #%s is running on %s: leaving it alone", run_id, run.worker)
                return None
            if run.attempts >= MAX_ATTEMPTS:
                run.status = Status.FAILED
                run.error = f"Gave up after {run.attempts} attempts: the worker was lost each time."
                run.finished_at = now
                run.save(update_fields=["status", "error", "finished_at"])
                return None
        if run.cancel_requested:
            run.status = Status.CANCELLED
            run.finished_at = now
            run.save(update_fields=["status", "finished_at"])
            return None
        if _kind_busy(run, now):
            return None
        run.status = Status.RUNNING
        run.worker = worker[:200]
        run.attempts = F("attempts") + 1
        run.started_at = run.started_at or now
        run.heartbeat_at = now
        run.error = ""
        run.traceback = ""
        run.progress, run.step, run.epoch, run.loss_curve = 0.0, 0, 0, []
        run.save(
            update_fields=[
                "status", "worker", "attempts", "started_at", "heartbeat_at", "error", "traceback",
                "progress", "step", "epoch", "loss_curve",
            ]
        )
    run.refresh_from_db()
    return run


def _kind_busy(run: TrainingRun, now: datetime) -> bool:
    """Whether another run of the same kind is running (checked under a lock of the kind's active runs, so
    that two workers never start two runs of one kind). The waiting run is marked as seen (AI_CONCURRENT_RUNS
    = wait; the caller raises RunDeferred) or failed with the reason (refuse)."""
    active = TrainingRun.objects.select_for_update().filter(kind=run.kind, status__in=ACTIVE).exclude(pk=run.pk)
    busy = next((other for other in active.order_by("pk") if other.status == Status.RUNNING), None)
    if busy is None:
        return False
    if ai_settings.CONCURRENT_RUNS == "refuse":
        run.status, run.finished_at = Status.FAILED, now
        run.error = f"Refused: {run.kind} run #{busy.pk} was running (AI_CONCURRENT_RUNS = refuse)."
        run.save(update_fields=["status", "error", "finished_at"])
    else:
        run.heartbeat_at = now
        run.error = f"Waiting for {run.kind} run #{busy.pk} to finish."
        run.save(update_fields=["heartbeat_at", "error"])
    return True


def _looks_orphaned(run_id: int, worker: str) -> bool:
    """A RUNNING run of another worker (left alone by `_claim`): it may be alive, or its worker just died."""
    return TrainingRun.objects.filter(pk=run_id, status=Status.RUNNING).exclude(worker=worker).exists()


def _finish(run: TrainingRun, worker: str, **fields: Any) -> bool:
    """Write the outcome, unless the run was meanwhile swept or taken over. Returns whether it was written."""
    fields.setdefault("finished_at", timezone.now())
    updated = TrainingRun.objects.filter(pk=run.pk, status=Status.RUNNING, worker=worker).update(**fields)
    for name, value in fields.items():
        setattr(run, name, value)
    return bool(updated)


def _flush_quietly(ctx: RunContext) -> None:
    """Write the last progress of a failed run; a broken database must not hide the original error."""
    try:
        ctx.flush()
    except Exception:
        logger.exception("Could not write the last progress of run #%s", ctx.run_id)


def _waiting_behind(run_id: int) -> int | None:
    """The run that this run, left queued by `_claim`, waits for; None when it is not waiting."""
    row = TrainingRun.objects.filter(pk=run_id, status=Status.QUEUED).first()
    if row is None:
        return None
    return TrainingRun.objects.filter(kind=row.kind, status=Status.RUNNING).exclude(pk=run_id).values_list("pk", flat=True).first()


def _claim_waiting(run_id: int, worker: str) -> TrainingRun | None:
    """In this process: wait (up to AI_QUEUE_TIMEOUT_S) while another run of the kind runs, then claim."""
    deadline = time.monotonic() + float(ai_settings.QUEUE_TIMEOUT_S)
    while True:
        run = _claim_or_take_over(run_id, worker)
        behind = _waiting_behind(run_id) if run is None else None
        if behind is None:
            return run
        if time.monotonic() >= deadline:
            TrainingRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
                status=Status.FAILED,
                error=f"Waited {float(ai_settings.QUEUE_TIMEOUT_S):g} s for run #{behind} of the same kind; gave up.",
                finished_at=timezone.now(),
            )
            return None
        _sleep(min(float(ai_settings.RETRY_WAITING_S), heartbeat_interval()))


def _claim_or_take_over(run_id: int, worker: str) -> TrainingRun | None:
    """Claim the run; or take it over when another worker holds it but stopped beating."""
    run = _claim(run_id, worker)
    if run is None and _looks_orphaned(run_id, worker):
        silent_since = _silent_heartbeat(run_id)
        if silent_since is not None:
            logger.warning("Training run #%s: its worker stopped beating; attempting it again", run_id)
            run = _claim(run_id, worker, silent_since=silent_since)
    return run


def _register_success(
    run: TrainingRun, worker: str, trained: TrainedModel, ctx: RunContext, registry_name: str
) -> ModelVersion | None:
    """Register the trained model under `registry_name` and mark the run SUCCEEDED in one transaction.

    Returns the new ModelVersion, or None (and nothing written) when the run was meanwhile failed or
    taken over. The run row is only locked by the final conditional update, so that the heartbeat
    goes on while artifacts are written.
    """
    from ai import registry

    with transaction.atomic():
        version = registry.register_version(registry_name, trained, run)
        ctx.log(f"registered {version.kind} v{version.version}")
        written = _finish(
            run,
            worker,
            status=Status.SUCCEEDED,
            progress=100.0,
            metrics=trained.metrics,
            data_summary=trained.data_summary,
            status_detail=trained.detail[:200],
            log_tail=ctx.log_tail,
            heartbeat_at=timezone.now(),
        )
        if not written:
            transaction.set_rollback(True)
            return None
    return version


def execute_run(
    run_id: int,
    *,
    hostname: str | None = None,
    listener: ProgressListener | None = None,
    heartbeat: bool = False,
    wait: bool = False,
) -> TrainingRun | None:
    """Train the run's kind, register the result as a ModelVersion and maybe promote it.

    Never raises for a training failure: the run ends FAILED with the error and traceback, and the
    live model is untouched. Returns the run (None when there was nothing to do). While another run of
    the kind runs, `wait=True` waits here (in-process); otherwise RunDeferred is raised (the Celery task
    retries later).
    """
    from ai import registry

    worker = worker_identity(hostname)
    run = _claim_waiting(run_id, worker) if wait else _claim_or_take_over(run_id, worker)
    if run is None:
        behind = None if wait else _waiting_behind(run_id)
        if behind is not None:
            raise RunDeferred(run_id, behind)
        return None
    beat = _Heartbeat(run.pk, worker) if heartbeat else None
    ctx: RunContext | None = None
    try:
        if beat:
            beat.start()
        device, label = choose_device()
        TrainingRun.objects.filter(pk=run.pk).update(device=label[:32])
        run.device = label[:32]
        ctx = RunContext(run, device, listener=listener)
        ctx.log(f"attempt {run.attempts} on {worker}; {describe(device)}")
        kind = get_kind(run.kind)
        ctx.report(progress=0)
        trained = kind.train(ctx)
        ctx.log("training done; saving the version")
        ctx.flush()
        version = _register_success(run, worker, trained, ctx, kind.registry_name(run.options))
        if version is None:
            logger.warning("Run #%s was failed or taken over meanwhile; its result is discarded", run.pk)
            return TrainingRun.objects.get(pk=run.pk)
        if registry.maybe_auto_promote(version):
            ctx.log(f"{version.kind} v{version.version} promoted automatically")
            TrainingRun.objects.filter(pk=run.pk).update(log_tail=ctx.log_tail)
        logger.info("Training run #%s (%s) succeeded: %s", run.pk, run.kind, trained.metrics)
    except RunCancelled:
        if ctx:
            ctx.log("cancelled")
            ctx.flush()
        _finish(run, worker, status=Status.CANCELLED, log_tail=ctx.log_tail if ctx else run.log_tail)
    except Exception as exc:
        logger.exception("Training run #%s (%s) failed", run.pk, run.kind)
        message = str(exc) or exc.__class__.__name__
        if ctx:
            ctx.log(f"failed: {message}")
            _flush_quietly(ctx)
        _finish(
            run,
            worker,
            status=Status.FAILED,
            error=f"{exc.__class__.__name__}: {message}",
            traceback=tb.format_exc(),
            log_tail=ctx.log_tail if ctx else run.log_tail,
        )
    finally:
        if beat:
            beat.stop()
    run.refresh_from_db()
    if listener is not None:
        listener(run)
    return run
