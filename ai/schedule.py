"""ai's periodic tasks, for the host's Celery beat. A host adds them in its Celery module, once Celery has
read the Django settings (as examples/oscar_shop/oscar_shop/celery.py and config/celery.py do):

    @app.on_after_configure.connect
    def add_ai_schedule(sender, **kwargs):
        from ai.schedule import beat_schedule

        sender.conf.beat_schedule = {**beat_schedule(), **(sender.conf.beat_schedule or {})}

The schedule: the sweep of dead and never-picked-up training runs (every AI_SWEEP_INTERVAL_S), the
retraining of AI_RETRAIN_KINDS on AI_RETRAIN_CRON, and, when AI_EVENT_RETENTION_DAYS is set, a daily purge
of older events. The settings are read when the function is called (when Celery is configured).
"""
from __future__ import annotations

from typing import Any

from celery.schedules import crontab


def crontab_from_string(expression: str) -> crontab:
    """A Celery crontab from a 5-field cron string (minute hour day-of-month month day-of-week).

    ValueError, saying what is wrong, for anything else (wrong field count, a value out of range, junk)."""
    if not isinstance(expression, str):
        raise ValueError(f"must be a cron string, not {expression!r}")
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{expression!r} must have 5 fields (minute hour day month weekday), not {len(fields)}")
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    try:
        return crontab(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week
        )
    except Exception as exc:  # celery raises ValueError or its own ParseException
        raise ValueError(f"{expression!r} is not a valid cron expression: {exc}") from None


def beat_schedule() -> dict[str, dict[str, Any]]:
    """ai's entries for `app.conf.beat_schedule`."""
    from .conf import ai_settings

    schedule: dict[str, dict[str, Any]] = {
        "ai: sweep stale training runs": {
            "task": "ai.tasks.sweep_stale_runs",
            "schedule": float(ai_settings.SWEEP_INTERVAL_S),
        },
        "ai: retrain models": {
            "task": "ai.tasks.retrain",
            "schedule": crontab_from_string(ai_settings.RETRAIN_CRON),
        },
    }
    if ai_settings.EVENT_RETENTION_DAYS:
        schedule["ai: purge old events"] = {
            "task": "ai.tasks.purge_old_events",
            "schedule": crontab(minute=15, hour=3),
        }
    return schedule
