"""The arithmetic of mixing the model kinds (each placement's weights are in `placements`).

Every model scores items in its own index space (the products it was trained on). Serving maps each
score vector onto one common space, the ids of the products that may be shown right now (see
`rules.Catalogue`), normalises it to 0..1 and adds it with the placement's weight. Popularity is added
with a small weight to every blend: it breaks ties and fills a list when the models have nothing to say
(a new visitor, a product nobody bought).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Weight of the popularity fill in every blend; small, so that it only orders what the models leave equal.
POPULARITY_FILL = 0.02


def normalise(scores: np.ndarray) -> np.ndarray:
    """Min-max to 0..1 (float32). Non-finite scores count as the minimum; a flat vector becomes zeros."""
    scores = np.asarray(scores, dtype=np.float32)
    finite = np.isfinite(scores)
    if not finite.any():
        return np.zeros_like(scores)
    if not finite.all():
        scores = np.where(finite, scores, scores[finite].min())
    low = float(scores.min())
    span = float(scores.max()) - low
    if span <= 0:
        return np.zeros_like(scores)
    return (scores - low) / span


def map_positions(catalogue_ids: np.ndarray, item_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a model's item keys: their positions in the sorted catalogue and which of them are in it."""
    if len(catalogue_ids) == 0 or len(item_keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(len(item_keys), dtype=bool)
    pos = np.searchsorted(catalogue_ids, item_keys)
    clipped = np.minimum(pos, len(catalogue_ids) - 1)
    present = catalogue_ids[clipped] == item_keys
    return clipped[present], present


def to_catalogue(scores: np.ndarray, positions: np.ndarray, present: np.ndarray, size: int) -> np.ndarray:
    """A model-space score vector as a catalogue-space vector (0 for products the model does not know)."""
    out = np.zeros(size, dtype=np.float32)
    out[positions] = scores[present]
    return out


@dataclass(frozen=True)
class Mapping:
    """How one model's item indices land in the catalogue (built once per model and catalogue)."""

    positions: np.ndarray  # catalogue position of every model item that is in the catalogue
    present: np.ndarray  # bool per model item
    to_position: np.ndarray  # catalogue position per model item, -1 when absent
    size: int  # catalogue size
    identity: bool  # model items == catalogue, in the same order: nothing to map

    def dense(self, scores: np.ndarray) -> np.ndarray:
        """A model-space score vector, normalised, in catalogue space."""
        normalised = normalise(scores)
        if self.identity:
            return normalised
        return to_catalogue(normalised, self.positions, self.present, self.size)

    def sparse(self, items: np.ndarray, values: np.ndarray) -> np.ndarray:
        """A few (item, score) pairs (e.g. neighbours), scaled by the best, in catalogue space."""
        out = np.zeros(self.size, dtype=np.float32)
        if len(items) == 0:
            return out
        positions = self.to_position[items]
        keep = positions >= 0
        values = np.asarray(values, dtype=np.float32)
        top = float(values.max())
        if top > 0:
            out[positions[keep]] = values[keep] / top
        return out


def mapping(catalogue_ids: np.ndarray, item_keys: np.ndarray) -> Mapping:
    positions, present = map_positions(catalogue_ids, item_keys)
    to_position = np.full(len(item_keys), -1, dtype=np.int64)
    to_position[present] = positions
    identity = len(item_keys) == len(catalogue_ids) and bool(np.array_equal(item_keys, catalogue_ids))
    return Mapping(positions, present, to_position, len(catalogue_ids), identity)


def top_k(scores: np.ndarray, k: int, allowed: np.ndarray) -> np.ndarray:
    """Indices of the k best allowed scores, best first (argpartition: O(n), no Python loop)."""
    candidates = np.flatnonzero(allowed)
    if len(candidates) == 0 or k <= 0:
        return candidates[:0]
    values = scores[candidates]
    if len(candidates) > k:
        part = np.argpartition(-values, k - 1)[:k]
        candidates, values = candidates[part], values[part]
    # Stable on ties: equal scores keep catalogue order, so lists are deterministic.
    order = np.lexsort((candidates, -values))
    return candidates[order]
