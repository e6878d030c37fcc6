"""Diversity re-ranking: maximal marginal relevance (MMR, Carbonell & Goldstein 1998) over a candidate pool.

Greedy: the next item is the candidate with the best `(1 - weight) * relevance - weight * similarity`,
where relevance is the blend's score scaled to 0..1 over the pool and similarity is the largest cosine
similarity to an item already picked. Items live in one shared space: the unit item vectors of a
truncated SVD of who-bought-what (`ai.recs.metrics.item_space`), which the co-occurrence kind stores
with its version and serving reads; `ai_eval recs --diversity` measures the same re-ranking offline in
the same space, so the weight a placement serves with (`placements`, `AI_RECS_DIVERSITY`) is the one
tuned against NDCG@10.
"""
from __future__ import annotations

import numpy as np
import torch

# Candidates re-ranked per list offline (the top of the blend's ranking); serving re-ranks its own pool.
EVAL_POOL = 50


def _scaled(relevance: np.ndarray) -> np.ndarray:
    """Min-max over the last axis (flat rows become zeros)."""
    low = relevance.min(axis=-1, keepdims=True)
    span = relevance.max(axis=-1, keepdims=True) - low
    return np.where(span > 0, (relevance - low) / np.where(span > 0, span, 1.0), 0.0)


def mmr_order(relevance: np.ndarray, vectors: np.ndarray, weight: float, k: int) -> np.ndarray:
    """Positions of the first `k` picks among one pool (`relevance[i]`, `vectors[i]` per candidate, the
    pool in relevance order), then the rest of the pool in its given order."""
    n = len(relevance)
    if weight <= 0 or n < 3:
        return np.arange(n)
    picked = mmr_batch(np.asarray(relevance, dtype=np.float64)[None, :], np.asarray(vectors)[None, :, :],
                       weight, min(k, n))[0]
    rest = np.setdiff1d(np.arange(n), picked, assume_unique=True)
    return np.concatenate([picked, rest])


def mmr_batch(relevance: np.ndarray, vectors: np.ndarray, weight: float, k: int) -> np.ndarray:
    """Greedy MMR for a batch of pools: relevance (lists x pool), vectors (lists x pool x d, unit rows or
    zeros for items without a vector); the positions picked, lists x k, in pick order."""
    lists, pool = relevance.shape
    k = min(k, pool)
    rel = _scaled(np.asarray(relevance, dtype=np.float64))
    sims = np.einsum("lpd,lqd->lpq", vectors, vectors).astype(np.float64)
    nearest = np.full((lists, pool), -np.inf)  # largest similarity to a picked item (none picked yet)
    taken = np.zeros((lists, pool), dtype=bool)
    rows = np.arange(lists)
    picks = np.zeros((lists, k), dtype=np.int64)
    for step in range(k):
        penalty = np.where(np.isfinite(nearest), nearest, 0.0)
        value = (1.0 - weight) * rel - weight * penalty
        value[taken] = -np.inf
        choice = value.argmax(axis=1)
        picks[:, step] = choice
        taken[rows, choice] = True
        nearest = np.maximum(nearest, sims[rows, choice, :])
    return picks


class Diversifier:
    """Re-ranks score rows with MMR over each row's top `pool` items: what `ai_eval recs --diversity`
    applies to a model's scores before HR/NDCG/diversity are measured."""

    def __init__(self, vectors: np.ndarray, weight: float, pool: int = EVAL_POOL):
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.weight = float(weight)
        self.pool = pool

    def top(self, scores: torch.Tensor, k: int) -> np.ndarray:
        """Top-k item indices per row (rows already masked: seen items at -inf)."""
        pool = min(max(self.pool, k), scores.shape[1])
        values, indices = torch.topk(scores, pool, dim=1)
        candidates = indices.numpy()
        relevance = values.numpy().astype(np.float64)
        finite = np.isfinite(relevance)
        if not finite.all():  # fewer unseen items than the pool: seen ones (-inf) rank as the row's worst
            worst = np.where(finite, relevance, np.inf).min(axis=1, keepdims=True)
            relevance = np.where(finite, relevance, np.where(np.isfinite(worst), worst, 0.0) - 1.0)
        order = mmr_batch(relevance, self.vectors[candidates], self.weight, k)
        return np.take_along_axis(candidates, order, axis=1)
