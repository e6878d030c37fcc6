"""What a message means: the live `chat_intent` model's intent and confidence, with the threshold chosen
on the validation split when it was trained. Without a live model nothing is understood (the dialogue
then hands off to staff)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ai import registry

KIND = "chat_intent"


class IntentModel(Protocol):
    """What the `chat_intent` kind's `load()` serves."""

    labels: list[str]
    threshold: float

    def predict_proba(self, texts: list[str]) -> np.ndarray:  # len(texts) x len(labels)
        ...


@dataclass
class Understanding:
    intent: str  # the likeliest intent ("" without a model)
    confidence: float
    understood: bool  # confidence at or above the model's threshold
    candidates: list[tuple[str, float]] = field(default_factory=list)  # the likeliest three, best first
    model_version_id: int | None = None


def classify(model: IntentModel, text: str, *, version_id: int | None = None) -> Understanding:
    probs = np.asarray(model.predict_proba([text])[0], dtype=np.float64)
    order = np.argsort(-probs)[:3]
    candidates = [(model.labels[i], float(probs[i])) for i in order]
    intent, confidence = candidates[0]
    understood = confidence >= float(model.threshold) and intent != "oos"
    return Understanding(intent, confidence, understood, candidates, version_id)


def understand(text: str) -> Understanding:
    loaded = registry.live_loaded(KIND)
    if loaded is None:
        return Understanding("", 0.0, False)
    return classify(loaded.model, text, version_id=loaded.version_id)
