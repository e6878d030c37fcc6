"""Where ai's tasks run: sent to the host's Celery broker, or run in this process when there is none.

`AI_TASKS_IN_PROCESS` decides (default: in-process exactly when the host has no `CELERY_BROKER_URL`), so
that a shop without a broker never leaves a run queued for a worker that does not exist. Messages go
through `celery.current_app` (the host's app once it is loaded) by task name, so that nothing here
imports the tasks module or the host's Celery module.
"""
from __future__ import annotations

import logging
from typing import Any

from ai.conf import ai_settings

logger = logging.getLogger("ai.training")


class DispatchError(RuntimeError):
    """The task could not be handed to the broker (it is down, or misconfigured)."""


def in_process() -> bool:
    return bool(ai_settings.TASKS_IN_PROCESS)


def destination() -> str:
    """Where a training run goes, in words for the CLI, the admin and the API."""
    if in_process():
        return "in this process (no Celery broker: AI_TASKS_IN_PROCESS)"
    return f"to a Celery worker on the {ai_settings.TRAIN_QUEUE!r} queue"


def send(task_name: str, args: list[Any], *, task_id: str | None = None, queue: str | None = None) -> None:
    """Send a task message through the host's Celery app; DispatchError when the broker refuses it."""
    from celery import current_app

    try:
        current_app.send_task(task_name, args=args, task_id=task_id, queue=queue)
    except Exception as exc:  # kombu's OperationalError, a refused connection, a bad URL…
        logger.error("Could not send %s%s to the broker: %s", task_name, args, exc)
        raise DispatchError(f"{exc.__class__.__name__}: {exc}") from exc
