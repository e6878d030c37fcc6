"""The interface every recommendation algorithm implements. Django-free, so that `ai_eval recs`
evaluates on any interactions file exactly the classes that the training kinds train and serve."""
from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

# progress(fraction 0..1, **numbers such as loss=, epoch=, step=): lets the pipeline show progress and cancel.
ProgressFn = Callable[..., None]


@dataclass
class Interactions:
    """Interactions with users and items already mapped to dense indices 0..n-1.

    Arrays are aligned; rows are sorted by (user, timestamp). `item_keys[i]` is the external id of item
    index i (the shop's product id, or the file's item_id); likewise `user_keys`.
    """

    users: np.ndarray  # int64
    items: np.ndarray  # int64
    timestamps: np.ndarray  # float64 (seconds, or position)
    n_users: int
    n_items: int
    item_keys: list[Any] = field(default_factory=list)
    user_keys: list[Any] = field(default_factory=list)
    weights: np.ndarray | None = None  # float32, e.g. purchase > add_to_cart > view
    item_categories: np.ndarray | None = None  # int64 per item index, -1 for none
    item_texts: list[str] | None = None  # per item index, for the content model

    def histories(self) -> list[np.ndarray]:
        """Each user's item indices in time order (index = user index)."""
        bounds = np.searchsorted(self.users, np.arange(self.n_users + 1))
        return [self.items[bounds[u] : bounds[u + 1]] for u in range(self.n_users)]


class Recommender(abc.ABC):
    name: ClassVar[str]
    needs_text: ClassVar[bool] = False

    @abc.abstractmethod
    def fit(
        self,
        data: Interactions,
        *,
        valid_targets: np.ndarray | None = None,
        progress: ProgressFn | None = None,
    ) -> Recommender:
        """Learn from `data`. `valid_targets[u]` (item index, -1 for none) may drive early stopping."""

    @abc.abstractmethod
    def score(self, histories: list[np.ndarray]) -> np.ndarray:
        """Scores of every item (shape: len(histories) x n_items) for users with these histories."""

    def similar(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Item-to-item neighbours (indices, scores) where the algorithm has them."""
        raise TypeError(f"{self.name} has no item-to-item similarity")

    def affinity(self, seeds: np.ndarray, item: int) -> np.ndarray:
        """How strongly each seed item (index) points at `item` in this model: the signal that explains
        a recommendation ("because you bought X"). Zero where the model sees no link."""
        raise TypeError(f"{self.name} has no item-to-item affinity")

    def affinities(self, seeds: np.ndarray, items: np.ndarray) -> np.ndarray:
        """`affinity` for several items at once: a len(seeds) x len(items) array (column j: items[j])."""
        if len(items) == 0:
            return np.zeros((len(seeds), 0), dtype=np.float32)
        return np.column_stack([np.asarray(self.affinity(seeds, int(item)), dtype=np.float32) for item in items])

    @abc.abstractmethod
    def to_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Tensors (for safetensors) and a JSON config from which `from_state` rebuilds the model."""

    @classmethod
    @abc.abstractmethod
    def from_state(cls, tensors: dict[str, torch.Tensor], config: dict[str, Any]) -> Recommender:
        ...
