"""Celery tasks of the AI plug-in, all `shared_task`s (they bind to the host's Celery app), all idempotent.

`train_model` goes to the AI_TRAIN_QUEUE queue (`gpu` by default). The periodic ones (sweep, retrain,
purge) are scheduled by `ai.schedule.beat_schedule()`. Nothing else in ai imports this module: runs are
sent by task name through `ai.training.dispatch`.
"""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task


@shared_task(name="ai.tasks.train_model", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def train_model(self, run_id: int) -> str:
    """Execute a training run. Idempotent on `run_id`: a redelivered message never trains twice at once.

    A run whose kind is busy (AI_CONCURRENT_RUNS = wait) is looked at again after AI_RETRY_WAITING_S."""
    from ai.conf import ai_settings
    from ai.training.services import RunDeferred, execute_run

    eager = bool(self.request.is_eager)
    try:
        run = execute_run(run_id, hostname=None if eager else self.request.hostname, heartbeat=not eager, wait=eager)
    except RunDeferred:
        raise self.retry(countdown=float(ai_settings.RETRY_WAITING_S), max_retries=None) from None
    return run.status if run else "skipped"


@shared_task(name="ai.tasks.sweep_stale_runs", ignore_result=True)
def sweep_stale_runs() -> int:
    """Fail runs whose worker stopped beating, and queued runs that no worker picked up."""
    from ai.training.services import sweep_stale_runs as sweep

    return sweep()


@shared_task(name="ai.tasks.retrain", ignore_result=True)
def retrain() -> list[int]:
    """Queue a run for each kind in AI_RETRAIN_KINDS (the beat schedule's nightly retraining)."""
    from ai.training.services import retrain_scheduled

    return [run.pk for run in retrain_scheduled()]


@shared_task(name="ai.tasks.purge_old_events", ignore_result=True)
def purge_old_events() -> int:
    """Delete events older than AI_EVENT_RETENTION_DAYS (nothing when it is not set)."""
    from django.utils import timezone

    from ai.conf import ai_settings
    from ai.models import Event

    days = ai_settings.EVENT_RETENTION_DAYS
    if not days:
        return 0
    deleted, _ = Event.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).delete()
    return deleted


@shared_task(name="ai.tasks.score_label_set", ignore_result=True)
def score_label_set(label_set_id: int) -> int:
    """Write the live text classifier's suggestions and uncertainty on a label set's items (idempotent)."""
    from ai.annotation.scoring import score_label_set as score

    return score(label_set_id)

