from django.urls import path

from .events import EventBatchView

urlpatterns: list = [
    path("events/", EventBatchView.as_view(), name="ai-events"),
]
