"""Ranking metrics over every item: HR@k, NDCG@k, catalogue coverage@k and intra-list diversity@k.

Items already in a user's history are excluded from the ranking. Given `rare_items` (a mask of the items
with few training interactions: `rare_item_mask`), HR@k and NDCG@k are also reported over only the test
cases whose target is such an item (`hr_rare`, `ndcg_rare`, `rare_users`): how a model does on the long tail. Diversity@k is the mean pairwise
cosine distance (1 - cosine) between the items of each top-k list, in an item space given by the
caller (`item_vectors`, one row per item): the same space for every model, so that figures compare.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

if TYPE_CHECKING:
    from ai.recs.diversify import Diversifier


class Scorer(Protocol):
    def score(self, histories: list[np.ndarray]) -> np.ndarray: ...


@dataclass
class RankingMetrics:
    hr: float
    ndcg: float
    coverage: float
    users: int
    diversity: float | None = None
    # Over the test cases whose target is a rare item (None when no rare-item mask was given).
    hr_rare: float | None = None
    ndcg_rare: float | None = None
    rare_users: int | None = None


def rank_metrics(
    scores: np.ndarray | torch.Tensor,
    histories: list[np.ndarray],
    targets: np.ndarray,
    k: int,
    diversifier: Diversifier | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k lists (seen items excluded) and the rank of each target within them (-1 if absent); with a
    diversifier, the lists it re-ranks from each row's best items."""
    scores = torch.as_tensor(scores, dtype=torch.float32).clone()
    rows = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    if len(rows):
        cols = np.concatenate(histories).astype(np.int64)
        scores[torch.from_numpy(rows), torch.from_numpy(cols)] = -math.inf
    if diversifier is not None:
        top = diversifier.top(scores, min(k, scores.shape[1]))
    else:
        top = torch.topk(scores, min(k, scores.shape[1]), dim=1).indices.numpy()
    hit = top == np.asarray(targets)[:, None]
    ranks = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
    return top, ranks


def intra_list_diversity(top: np.ndarray, item_vectors: np.ndarray) -> np.ndarray:
    """Per list (row of item indices): mean pairwise 1 - cosine of the items' unit vectors."""
    if top.shape[1] < 2:
        return np.zeros(len(top), dtype=np.float64)
    vectors = item_vectors[top]  # lists x k x d
    sims = np.einsum("lkd,lmd->lkm", vectors, vectors)
    k = top.shape[1]
    off_diagonal = sims.sum(axis=(1, 2)) - np.trace(sims, axis1=1, axis2=2)
    return 1.0 - off_diagonal / (k * (k - 1))


def evaluate_scores(
    model: Scorer,
    histories: list[np.ndarray],
    targets: np.ndarray,
    n_items: int,
    *,
    k: int = 10,
    batch_size: int = 1024,
    item_vectors: np.ndarray | None = None,
    diversifier: Diversifier | None = None,
    rare_items: np.ndarray | None = None,
) -> RankingMetrics:
    """HR@k, NDCG@k, coverage@k (and diversity@k given item vectors) for the users whose target is >= 0;
    given `rare_items` (one bool per item), HR@k and NDCG@k over the users whose target is rare too."""
    users = np.flatnonzero(targets >= 0)
    hits = 0.0
    dcg = 0.0
    diversity = 0.0
    rare_hits, rare_dcg, rare_users = 0.0, 0.0, 0
    shown = np.zeros(n_items, dtype=bool)
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        batch_histories = [histories[u] for u in batch]
        top, ranks = rank_metrics(model.score(batch_histories), batch_histories, targets[batch], k, diversifier)
        shown[top.ravel()] = True
        found = ranks >= 0
        gains = np.where(found, 1.0 / np.log2(np.maximum(ranks, 0) + 2.0), 0.0)
        hits += found.sum()
        dcg += gains.sum()
        if rare_items is not None:
            rare = np.asarray(rare_items, dtype=bool)[targets[batch]]
            rare_users += int(rare.sum())
            rare_hits += float(found[rare].sum())
            rare_dcg += float(gains[rare].sum())
        if item_vectors is not None:
            diversity += float(intra_list_diversity(top, item_vectors).sum())
    n = max(len(users), 1)
    return RankingMetrics(
        hr=hits / n,
        ndcg=dcg / n,
        coverage=shown.sum() / n_items,
        users=len(users),
        diversity=diversity / n if item_vectors is not None else None,
        hr_rare=None if rare_items is None else rare_hits / max(rare_users, 1),
        ndcg_rare=None if rare_items is None else rare_dcg / max(rare_users, 1),
        rare_users=None if rare_items is None else rare_users,
    )


# A test target with fewer training interactions than this is a rare item (`ndcg@10_rare`).
RARE_BELOW = 5


def rare_item_mask(items: np.ndarray, n_items: int, below: int = RARE_BELOW) -> np.ndarray:
    """One bool per item: whether it has fewer than `below` interactions among `items` (the training rows)."""
    return np.bincount(np.asarray(items, dtype=np.int64), minlength=n_items)[:n_items] < below


def item_space(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int, dims: int = 32) -> np.ndarray:
    """Unit item vectors from a truncated SVD of the binarised user x item matrix: the shared space in
    which `ai_eval recs` measures every model's diversity@k (items bought by the same people are close)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import svds

    matrix = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (users, items)), shape=(n_users, n_items))
    matrix.data[:] = 1.0
    rank = max(1, min(dims, min(matrix.shape) - 1))
    _, values, vt = svds(matrix, k=rank, random_state=0)
    vectors = (vt.T * values).astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)
