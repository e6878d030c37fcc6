"""Model kinds: each model family that the training pipeline knows.

A kind declares how it reads its data, trains, evaluates, saves and loads (see `base.ModelKind`).
Built-in kinds are registered by importing their modules below; a host project can register more
with `ai.kinds.register`.
"""
from .base import ModelKind, TrainedModel, TrainingContext, all_kinds, get_kind, register

__all__ = ["ModelKind", "TrainedModel", "TrainingContext", "all_kinds", "get_kind", "register"]
from . import (
    chat_intent,  # noqa: E402,F401  (kind chat_intent, after text_classifier which it extends)
    demand,  # noqa: E402,F401  (kind demand)
    popularity,  # noqa: E402,F401  (kind popularity)
    recs,  # noqa: E402,F401  (kinds cooccurrence, sasrec, content)
    text_classifier,  # noqa: E402,F401  (kind text_classifier)
)
