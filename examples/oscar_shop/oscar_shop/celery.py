"""The shop's Celery app, as any Django project has one (celery's "First steps with Django")."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oscar_shop.settings")

app = Celery("oscar_shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
