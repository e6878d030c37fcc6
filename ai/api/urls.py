from django.urls import path

from .events import EventBatchView
from .recommendations import RecommendationsView
from .training import (
    ModelRollbackView,
    ModelVersionDetailView,
    ModelVersionListView,
    ModelVersionPromoteView,
    TrainingRunCancelView,
    TrainingRunDetailView,
    TrainingRunListCreateView,
)

urlpatterns: list = [
    path("events/", EventBatchView.as_view(), name="ai-events"),
    path("recommendations/", RecommendationsView.as_view(), name="ai-recommendations"),
    path("training-runs/", TrainingRunListCreateView.as_view(), name="ai-training-runs"),
    path("training-runs/<int:pk>/", TrainingRunDetailView.as_view(), name="ai-training-run"),
    path("training-runs/<int:pk>/cancel/", TrainingRunCancelView.as_view(), name="ai-training-run-cancel"),
    path("models/", ModelVersionListView.as_view(), name="ai-models"),
    path("models/rollback/", ModelRollbackView.as_view(), name="ai-models-rollback"),
    path("models/<int:pk>/", ModelVersionDetailView.as_view(), name="ai-model"),
    path("models/<int:pk>/promote/", ModelVersionPromoteView.as_view(), name="ai-model-promote"),
]
