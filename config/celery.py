"""The Celery app. Training tasks go to the `gpu` queue, everything else to `default`.

ai's tasks are `shared_task`s found by autodiscovery; its periodic tasks (the sweep of dead or never
picked-up training runs, the retraining on AI_RETRAIN_CRON) come from `ai.schedule.beat_schedule()`.
With no CELERY_BROKER_URL, ai runs its tasks in the calling process (AI_TASKS_IN_PROCESS).
"""
import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("aisle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

import config.request_id  # noqa: E402,F401  (connects the signals that carry the request id into tasks)


@worker_init.connect
@beat_init.connect
def refuse_without_secret_key(**kwargs) -> None:
    from config.checks import require_production_secret_key

    require_production_secret_key()


# The shop's periodic tasks: cancel (through the order pipeline, which restocks) pending orders left
# unpaid past SHOP_UNPAID_ORDER_TTL_HOURS; every morning (SHOP_LOW_STOCK_DIGEST_CRON, after ai's nightly
# retraining) the low-stock e-mail. Both tasks are idempotent, so a late or doubled beat is harmless.
SHOP_BEAT_SCHEDULE = {
    "shop: release stock of unpaid orders": {"task": "shop.tasks.release_unpaid_orders", "schedule": 600.0},
}


@app.on_after_configure.connect
def setup_periodic_tasks(sender, **kwargs) -> None:
    """Beat: ai's schedule, every 10 minutes the release of orders unpaid for SHOP_UNPAID_ORDER_TTL_HOURS, and
    the daily low-stock digest."""
    from django.conf import settings

    from ai.schedule import beat_schedule, crontab_from_string

    digest = {"shop: low-stock digest": {"task": "shop.tasks.send_low_stock_digest",
                                         "schedule": crontab_from_string(settings.SHOP_LOW_STOCK_DIGEST_CRON)}}
    sender.conf.beat_schedule = {**beat_schedule(), **SHOP_BEAT_SCHEDULE, **digest, **(sender.conf.beat_schedule or {})}
