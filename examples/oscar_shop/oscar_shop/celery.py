"""The shop's Celery app, as any Django project has one (celery's "First steps with Django"), plus ai's
periodic tasks (the sweep of dead runs, the retraining on AI_RETRAIN_CRON): README's step 6."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oscar_shop.settings")

app = Celery("oscar_shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def add_ai_schedule(sender, **kwargs) -> None:
    from ai.schedule import beat_schedule

    sender.conf.beat_schedule = {**beat_schedule(), **(sender.conf.beat_schedule or {})}
