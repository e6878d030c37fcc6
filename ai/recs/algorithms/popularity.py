"""Popularity with recency decay, overall and per category: the fallback for new visitors and shops."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from ai.recs.base import Interactions, ProgressFn, Recommender

DAY_S = 86_400.0


class Popularity(Recommender):
    """Each item's weighted interactions, every one decayed by half per `half_life_days` of age.

    Age is measured from the newest interaction in the data (or `reference_time`), so that a model
    trained on an old data set is not all zeros. `half_life_days <= 0` turns decay off. Everyone gets
    the same scores: this is the model for visitors about whom nothing is known.
    """

    name: ClassVar[str] = "popularity"

    def __init__(self, half_life_days: float = 30.0, reference_time: float | None = None) -> None:
        self.half_life_days = float(half_life_days)
        self.reference_time = reference_time
        self.scores_: np.ndarray = np.zeros(0, dtype=np.float32)
        self.item_categories: np.ndarray = np.zeros(0, dtype=np.int64)
        self.item_keys: list[Any] = []

    def decay(self, timestamps: np.ndarray, reference: float) -> np.ndarray:
        if self.half_life_days <= 0:
            return np.ones(len(timestamps), dtype=np.float64)
        age_days = np.clip(reference - timestamps, 0.0, None) / DAY_S
        return np.power(0.5, age_days / self.half_life_days)

    def fit(
        self,
        data: Interactions,
        *,
        valid_targets: np.ndarray | None = None,
        progress: ProgressFn | None = None,
    ) -> Popularity:
        reference = self.reference_time
        if reference is None:
            reference = float(data.timestamps.max()) if len(data.timestamps) else 0.0
        self.reference_time = reference
        weights = data.weights if data.weights is not None else np.ones(len(data.items), dtype=np.float32)
        contribution = weights.astype(np.float64) * self.decay(data.timestamps.astype(np.float64), reference)
        self.scores_ = np.bincount(data.items, weights=contribution, minlength=data.n_items).astype(np.float32)
        if data.item_categories is not None:
            self.item_categories = np.asarray(data.item_categories, dtype=np.int64)
        else:
            self.item_categories = np.full(data.n_items, -1, dtype=np.int64)
        self.item_keys = list(data.item_keys)
        if progress is not None:
            progress(1.0)
        return self

    @property
    def n_items(self) -> int:
        return len(self.scores_)

    def score(self, histories: list[np.ndarray]) -> np.ndarray:
        return np.broadcast_to(self.scores_, (len(histories), self.n_items)).copy()

    def ranked(self, k: int, *, category: int | None = None, exclude: np.ndarray | None = None) -> np.ndarray:
        """Item indices of the k most popular items (in a category), best first; never-seen items are left out."""
        scores = self.scores_.astype(np.float64)
        allowed = scores > 0
        if category is not None:
            allowed &= self.item_categories == category
        if exclude is not None and len(exclude):
            allowed[np.asarray(exclude, dtype=np.int64)] = False
        candidates = np.flatnonzero(allowed)
        if len(candidates) == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64)
        order = np.lexsort((candidates, -scores[candidates]))  # by score, ties by index
        return candidates[order[:k]]

    def top_keys(self, k: int, *, category: int | None = None, exclude_keys=()) -> list[Any]:
        """The external ids (product ids) of the k most popular items, optionally in one category."""
        index = {key: i for i, key in enumerate(self.item_keys)} if exclude_keys else {}
        exclude = np.asarray([index[key] for key in exclude_keys if key in index], dtype=np.int64)
        return [self.item_keys[i] for i in self.ranked(k, category=category, exclude=exclude)]

    def to_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {
            "scores": torch.from_numpy(np.ascontiguousarray(self.scores_, dtype=np.float32)),
            "item_categories": torch.from_numpy(np.ascontiguousarray(self.item_categories, dtype=np.int64)),
        }
        config = {
            "algorithm": self.name,
            "half_life_days": self.half_life_days,
            "reference_time": self.reference_time,
            "item_keys": list(self.item_keys),
        }
        return tensors, config

    @classmethod
    def from_state(cls, tensors: dict[str, torch.Tensor], config: dict[str, Any]) -> Popularity:
        model = cls(half_life_days=config.get("half_life_days", 30.0), reference_time=config.get("reference_time"))
        model.scores_ = tensors["scores"].numpy().astype(np.float32)
        model.item_categories = tensors["item_categories"].numpy().astype(np.int64)
        model.item_keys = list(config.get("item_keys") or range(len(model.scores_)))
        if len(model.item_keys) != len(model.scores_):
            raise ValueError(f"config has {len(model.item_keys)} item keys for {len(model.scores_)} scores")
        return model
