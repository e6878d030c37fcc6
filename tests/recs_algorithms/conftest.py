from __future__ import annotations

import numpy as np
import pytest

from ai.recs.base import Interactions


def make_interactions(histories: list[list[int]], n_items: int, texts: list[str] | None = None) -> Interactions:
    users = np.repeat(np.arange(len(histories)), [len(h) for h in histories]).astype(np.int64)
    items = np.concatenate([np.asarray(h, dtype=np.int64) for h in histories])
    stamps = np.concatenate([np.arange(len(h), dtype=np.float64) for h in histories])
    return Interactions(
        users=users,
        items=items,
        timestamps=stamps,
        n_users=len(histories),
        n_items=n_items,
        item_keys=list(range(n_items)),
        user_keys=list(range(len(histories))),
        item_texts=texts,
    )


@pytest.fixture
def planted_sequences() -> Interactions:
    """Every shopper walks the catalogue in order: item i is always followed by item i + 1 (mod 60)."""
    rng = np.random.default_rng(0)
    n_items = 60
    histories = []
    for _ in range(300):
        start, length = rng.integers(n_items), rng.integers(5, 9)
        histories.append([(start + step) % n_items for step in range(length)])
    return make_interactions(histories, n_items)


@pytest.fixture
def planted_baskets() -> Interactions:
    """12 groups of 5 items; each shopper buys 4 items of one group, in random order."""
    rng = np.random.default_rng(1)
    n_items, group = 60, 5
    histories = []
    for user in range(400):
        members = (user % (n_items // group)) * group + np.arange(group)
        histories.append(list(rng.permutation(members)[:4]))
    return make_interactions(histories, n_items)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models gain nothing from threads, and on a busy 2-core machine spinning threads cost 10x."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
