"""Celery tasks of the AI plug-in. `train_model` goes to the `gpu` queue (CELERY_TASK_ROUTES)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="ai.tasks.train_model", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def train_model(self, run_id: int) -> str:
    """Execute a training run. Idempotent on `run_id`: a redelivered message never trains twice at once."""
    from ai.training.services import execute_run

    eager = bool(self.request.is_eager)
    run = execute_run(run_id, hostname=None if eager else self.request.hostname, heartbeat=not eager)
    return run.status if run else "skipped"


@shared_task(name="ai.tasks.sweep_stale_runs", ignore_result=True)
def sweep_stale_runs() -> int:
    """Fail runs whose worker stopped beating (periodic, see config/celery.py)."""
    from ai.training.services import sweep_stale_runs as sweep

    return sweep()


@shared_task(name="ai.tasks.retrain", ignore_result=True)
def retrain() -> list[int]:
    """Queue a run for each kind in AI_RETRAIN_KINDS (the beat schedule's nightly retraining)."""
    from ai.training.services import retrain_scheduled

    return [run.pk for run in retrain_scheduled()]


@shared_task(name="ai.tasks.score_label_set", ignore_result=True)
def score_label_set(label_set_id: int) -> int:
    """Write the live text classifier's suggestions and uncertainty on a label set's items (idempotent)."""
    from ai.annotation.scoring import score_label_set as score

    return score(label_set_id)
