"""The Celery app. Training tasks go to the `gpu` queue, everything else to `default`.

With no CELERY_BROKER_URL, settings make every task run eagerly in the calling process.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("aisle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def crontab_from_string(expression: str):
    """A Celery crontab from a 5-field cron string (minute hour day-of-month month day-of-week)."""
    from celery.schedules import crontab

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"AI_RETRAIN_CRON must have 5 fields (minute hour day month weekday), not {expression!r}")
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    return crontab(
        minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week
    )


@app.on_after_configure.connect
def setup_periodic_tasks(sender, **kwargs) -> None:
    """Beat: sweep runs whose worker died every minute; retrain on AI_RETRAIN_CRON (nightly by default)."""
    from ai.conf import ai_settings

    sender.add_periodic_task(60.0, sender.signature("ai.tasks.sweep_stale_runs"), name="ai: sweep stale training runs")
    sender.add_periodic_task(
        crontab_from_string(ai_settings.RETRAIN_CRON),
        sender.signature("ai.tasks.retrain"),
        name="ai: retrain models",
    )
