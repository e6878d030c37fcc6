"""How unsure a classifier is about each text (higher: more unsure), for active learning's queue order."""
from __future__ import annotations

import numpy as np

STRATEGIES = ("least_confident", "margin", "entropy")


def uncertainty(proba: np.ndarray, strategy: str = "least_confident", *, multi_label: bool = False) -> np.ndarray:
    """One score in [0, 1] per row of class probabilities (rows sum to 1 unless multi_label).

    least_confident: 1 - max p. margin: 1 - (p1 - p2), the two likeliest classes. entropy: normalised
    by log(K). Multi-label probabilities are independent: each label's binary uncertainty 1 - |2p - 1|,
    averaged over labels, whatever the strategy.
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] == 0:
        raise ValueError("proba must be a 2-d array with at least one class")
    if multi_label:
        return (1.0 - np.abs(2.0 * proba - 1.0)).mean(axis=1)
    if strategy == "least_confident":
        return 1.0 - proba.max(axis=1)
    if strategy == "margin":
        if proba.shape[1] < 2:
            return np.zeros(len(proba))
        top2 = np.sort(proba, axis=1)[:, -2:]
        return 1.0 - (top2[:, 1] - top2[:, 0])
    if strategy == "entropy":
        if proba.shape[1] < 2:
            return np.zeros(len(proba))
        clipped = np.clip(proba, 1e-12, 1.0)
        return -(proba * np.log(clipped)).sum(axis=1) / np.log(proba.shape[1])
    raise ValueError(f"unknown uncertainty strategy {strategy!r} ({', '.join(STRATEGIES)})")
