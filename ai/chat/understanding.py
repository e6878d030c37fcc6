"""What a message means: the live `chat_intent` model's intent and confidence, with the threshold chosen
on the validation split when it was trained. Without a live model nothing is understood (the dialogue
then hands off to staff)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ai import registry
from ai.device import torch_threads

if TYPE_CHECKING:
    import torch

KIND = "chat_intent"
# One message is a few small matrix products, and a web server's parallelism comes from its processes:
# one torch thread per message, as the recommendations' serving path (ai.recs.service) does.
CHAT_TORCH_THREADS = 1


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
    understood: bool  # in-scope score (default: the confidence) at or above the model's threshold, not `oos`
    candidates: list[tuple[str, float]] = field(default_factory=list)  # the likeliest three, best first
    model_version_id: int | None = None
    # The message's frozen MiniLM sentence embedding, finished from the encoder layers the intent model
    # already ran (see ServedIntentModel.analyse); None when the model cannot share them.
    sentence_vector: Callable[[int], torch.Tensor | None] | None = field(default=None, repr=False, compare=False)


def classify(model: IntentModel, text: str, *, version_id: int | None = None) -> Understanding:
    analyse = getattr(model, "analyse", None)
    sentence_vector = None
    score: float | None = None
    with torch_threads(CHAT_TORCH_THREADS):
        if analyse is not None:
            row, score, sentence_vector = analyse(text)
        else:
            row = model.predict_proba([text])[0]
    probs = np.asarray(row, dtype=np.float64)
    order = np.argsort(-probs)[:3]
    candidates = [(model.labels[i], float(probs[i])) for i in order]
    intent, confidence = candidates[0]
    # The model's in-scope score (ServedIntentModel.analyse: the energy of the in-scope logits by default);
    # a model without one is judged on its top probability.
    understood = (confidence if score is None else score) >= float(model.threshold) and intent != "oos"
    return Understanding(intent, confidence, understood, candidates, version_id, sentence_vector)


def understand(text: str) -> Understanding:
    loaded = registry.live_loaded(KIND)
    if loaded is None:
        return Understanding("", 0.0, False)
    return classify(loaded.model, text, version_id=loaded.version_id)
