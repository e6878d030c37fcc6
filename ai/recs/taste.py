"""Long- and short-term taste, offline: the same mixing as serving's "Recommended for you", tuned and measured.

Serving (`placements.Placement.scores`) scores each model twice for a shopper, from the recent sequence
(the last `HISTORY_LENGTH` events) and from everything they bought, normalises both to 0..1 and mixes them
with the weight `long_term`. On an interactions file the same two views of a history are its last
`window` items and its distinct items (most recent occurrence last). `tune_long_term` picks the weight
from a few candidates by NDCG@k on the validation targets of a model fitted without them; the training
kinds store it with the version and serving uses it. `Blend` is a placement's weighted sum of models,
so that `ai_eval recs --blend` measures the blended list itself.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ai.recs.metrics import Scorer, rank_metrics

# The serving window (ai.recs.history.HISTORY_LENGTH; not imported: this module runs without Django models).
WINDOW = 50
LONG_TERM_CANDIDATES = (0.0, 0.25, 0.5, 0.75, 1.0)
# The weight serving uses for a version that tuned none (`placements.LONG_TERM_WEIGHT`).
DEFAULT_LONG_TERM = 0.5
# Fewer validation shoppers than this choose no weight (noise; serving keeps the placement's default).
MIN_TUNING_USERS = 100


def normalise_rows(scores: np.ndarray) -> np.ndarray:
    """Min-max to 0..1 per row, like `blend.normalise` per request; non-finite scores count as the minimum."""
    scores = np.asarray(scores, dtype=np.float32)
    finite = np.isfinite(scores)
    if not finite.all():
        low = np.where(finite, scores, np.inf).min(axis=1, keepdims=True)
        scores = np.where(finite, scores, np.where(np.isfinite(low), low, 0.0))
    low = scores.min(axis=1, keepdims=True)
    span = scores.max(axis=1, keepdims=True) - low
    return np.where(span > 0, (scores - low) / np.where(span > 0, span, 1.0), 0.0).astype(np.float32)


def distinct_items(history: np.ndarray) -> np.ndarray:
    """Each item once, ordered by its last occurrence (as serving orders a customer's purchases)."""
    history = np.asarray(history)
    if len(history) == 0:
        return history
    reversed_items, first = np.unique(history[::-1], return_index=True)
    return reversed_items[np.argsort(-first, kind="stable")]


def views(histories: Sequence[np.ndarray], window: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    return [h[-window:] for h in histories], [distinct_items(h) for h in histories]


class LongShort:
    """A model's scores mixed from the recent window and the whole (distinct) history."""

    def __init__(self, model: Scorer, long_term: float, window: int = WINDOW):
        self.model = model
        self.long_term = float(long_term)
        self.window = window

    def score(self, histories: list[np.ndarray]) -> np.ndarray:
        recent, whole = views(histories, self.window)
        short = normalise_rows(self.model.score(recent))
        if self.long_term <= 0:
            return short
        return (1.0 - self.long_term) * short + self.long_term * normalise_rows(self.model.score(whole))


class Blend:
    """A placement's blend: the weighted sum of its models' normalised scores."""

    def __init__(self, parts: Sequence[tuple[float, Scorer]]):
        self.parts = list(parts)

    def score(self, histories: list[np.ndarray]) -> np.ndarray:
        total: np.ndarray | None = None
        for weight, model in self.parts:
            part = weight * normalise_rows(model.score(histories))
            total = part if total is None else total + part
        if total is None:
            raise ValueError("a blend needs at least one model")
        return total


def tune_long_term(
    model: Scorer,
    histories: list[np.ndarray],
    targets: np.ndarray,
    *,
    k: int = 10,
    window: int = WINDOW,
    candidates: Sequence[float] = LONG_TERM_CANDIDATES,
    batch_size: int = 1024,
    min_users: int = MIN_TUNING_USERS,
) -> dict[str, Any]:
    """The long-term weight with the best NDCG@k on these targets, and every candidate's NDCG@k.

    `weight` is None when no history is longer than the window and has no repeats (every candidate
    then ranks the same: the data cannot tell), when every candidate scores the same, or when fewer than `min_users` shoppers have a target;
    serving then keeps the placement's default.
    """
    users = np.flatnonzero(targets >= 0)
    dcg = np.zeros(len(candidates))
    differ = False
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        batch_histories = [histories[u] for u in batch]
        recent, whole = views(batch_histories, window)
        if not any(len(r) != len(w) for r, w in zip(recent, whole, strict=True)):
            short = long = normalise_rows(model.score(recent))
        else:
            differ = True
            short, long = normalise_rows(model.score(recent)), normalise_rows(model.score(whole))
        for n, weight in enumerate(candidates):
            _, ranks = rank_metrics((1.0 - weight) * short + weight * long, batch_histories, targets[batch], k)
            found = ranks >= 0
            dcg[n] += (1.0 / np.log2(ranks[found] + 2.0)).sum()
    ndcg = dcg / max(len(users), 1)
    best = int(np.argmax(ndcg))  # ties: the first candidate (the least long-term weight)
    # Every candidate equal (e.g. a model that only looks at the last few items): nothing to choose.
    decided = differ and len(users) >= min_users and float(ndcg.max() - ndcg.min()) > 1e-9
    return {
        "weight": float(candidates[best]) if decided else None,
        "ndcg": {str(weight): round(float(value), 5) for weight, value in zip(candidates, ndcg, strict=True)},
    }
