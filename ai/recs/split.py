"""Leave-one-out by time: each user's last interaction is the test target, the one before it the
validation target. Shared by the training kinds, the algorithms' own tuning and `ai_eval recs`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ai.recs.base import Interactions

MIN_USERS = 2


class NotEnoughData(ValueError):
    """Too few users or interactions to hold any target out."""


@dataclass
class LeaveOneOut:
    train: Interactions  # without validation and test targets: for tuning
    valid_targets: np.ndarray  # item index per user, -1 for none
    fit_data: Interactions  # everything but the test targets: for the final fit
    test_targets: np.ndarray  # item index per user, -1 for none


def subset(data: Interactions, keep: np.ndarray) -> Interactions:
    """The same users and items (indices unchanged), only the rows where `keep` is true."""
    return Interactions(
        users=data.users[keep],
        items=data.items[keep],
        timestamps=data.timestamps[keep],
        n_users=data.n_users,
        n_items=data.n_items,
        item_keys=data.item_keys,
        user_keys=data.user_keys,
        weights=None if data.weights is None else data.weights[keep],
        item_categories=data.item_categories,
        item_texts=data.item_texts,
    )


def leave_one_out(data: Interactions) -> LeaveOneOut:
    """Hold out each user's last interaction (test) and the one before it (validation).

    A user needs 2 interactions to have a test target and 3 to also have a validation target; users
    with fewer stay in the training data only. Rows must be sorted by (user, timestamp).
    """
    n_rows = len(data.users)
    bounds = np.searchsorted(data.users, np.arange(data.n_users + 1))
    lengths = np.diff(bounds)
    test_targets = np.full(data.n_users, -1, dtype=np.int64)
    valid_targets = np.full(data.n_users, -1, dtype=np.int64)
    has_test = lengths >= 2
    has_valid = lengths >= 3
    last = bounds[1:] - 1
    test_targets[has_test] = data.items[last[has_test]]
    valid_targets[has_valid] = data.items[last[has_valid] - 1]
    if has_test.sum() < MIN_USERS:
        raise NotEnoughData(
            f"too little data: {int(has_test.sum())} user(s) with 2 or more interactions "
            f"(need at least {MIN_USERS} to hold out their last interaction)"
        )
    keep_fit = np.ones(n_rows, dtype=bool)
    keep_fit[last[has_test]] = False
    keep_train = keep_fit.copy()
    keep_train[last[has_valid] - 1] = False
    return LeaveOneOut(
        train=subset(data, keep_train),
        valid_targets=valid_targets,
        fit_data=subset(data, keep_fit),
        test_targets=test_targets,
    )


def thin_items(data: Interactions, fraction: float, *, keep: int = 2, seed: int = 0) -> Interactions:
    """A long tail made from a real file, to measure how models rank rare products: a random `fraction`
    of the items (seeded) keep only their `keep` earliest interactions, apart from each user's last three
    (the leave-one-out test and validation targets, and one interaction before them so that no user loses
    a target), which all stay. The test targets on those items then count as rare (`ndcg@10_rare`), with
    everything else in the file as it was."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"the fraction of items to thin must be between 0 and 1, not {fraction:g}")
    rng = np.random.default_rng(seed)
    chosen = np.zeros(data.n_items, dtype=bool)
    chosen[rng.choice(data.n_items, max(1, round(fraction * data.n_items)), replace=False)] = True
    bounds = np.searchsorted(data.users, np.arange(data.n_users + 1))
    from_end = bounds[data.users + 1] - 1 - np.arange(len(data.users))  # 0: the user's last interaction
    candidates = np.flatnonzero(chosen[data.items] & (from_end >= 3))
    by_item = candidates[np.lexsort((data.timestamps[candidates], data.items[candidates]))]
    items = data.items[by_item]
    rank = np.arange(len(by_item)) - np.searchsorted(items, items, side="left")  # 0: the item's earliest
    keep_rows = np.ones(len(data.users), dtype=bool)
    keep_rows[by_item[rank >= keep]] = False
    return subset(data, keep_rows)
