"""The Celery app. Training tasks go to the `gpu` queue, everything else to `default`.

With no CELERY_BROKER_URL, settings make every task run eagerly in the calling process.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("aisle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
