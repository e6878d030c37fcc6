"""Serving scores a shopper's two views (recent sequence, purchases) in one call of the model, and explains a
list with one affinity call per model: the same numbers as one call per history and per product."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ai.kinds.recs import ServedRecommender
from ai.recs.algorithms.content import ContentSimilarity
from ai.recs.algorithms.cooccurrence import CoOccurrence
from ai.recs.algorithms.sasrec import SASRec
from ai.recs.base import Interactions

KEYS = np.arange(100, 130, dtype=np.int64)  # product ids of item indices 0..29


def interactions() -> Interactions:
    rng = np.random.default_rng(0)
    histories = [list(rng.choice(30, size=6, replace=False)) for _ in range(80)]
    users = np.repeat(np.arange(80), 6).astype(np.int64)
    return Interactions(users=users, items=np.concatenate(histories).astype(np.int64),
                        timestamps=np.tile(np.arange(6.0), 80), n_users=80, n_items=30, item_keys=list(KEYS))


def served(name: str) -> ServedRecommender:
    data = interactions()
    if name == "cooccurrence":
        algorithm = CoOccurrence().fit(data)
    elif name == "sasrec":
        algorithm = SASRec(max_len=10, hidden=16, layers=1, heads=1, dropout=0.0, epochs=2, device="cpu").fit(data)
    else:
        algorithm = ContentSimilarity(device="cpu")
        algorithm.embeddings = torch.nn.functional.normalize(torch.randn(30, 8, generator=torch.Generator().manual_seed(0)), dim=1)
    return ServedRecommender(kind=name, algorithm=algorithm, item_keys=KEYS)


@pytest.mark.parametrize("name", ["cooccurrence", "sasrec"])
def test_two_histories_in_one_call_score_as_two_calls(name):
    model = served(name)
    recent, purchases, unknown = [101, 105, 107, 103], [110, 112], [999]
    together = model.score_histories([recent, purchases, unknown, []])
    assert together[2] is None and together[3] is None  # nothing the model knows: no opinion
    np.testing.assert_allclose(together[0], model.score_history(recent), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(together[1], model.score_history(purchases), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["cooccurrence", "sasrec", "content"])
def test_affinities_of_a_whole_list_equal_one_product_at_a_time(name):
    model = served(name)
    seeds, products = [101, 999, 105, 120], [102, 110, 998, 129]
    matrix = model.affinities(seeds, products)
    assert matrix.shape == (4, 4)
    for column, product in enumerate(products):
        one = model.affinity(seeds, product)
        expected = np.zeros(4) if one is None else one  # a product the model does not know: no affinity
        np.testing.assert_allclose(matrix[:, column], expected, rtol=1e-5, atol=1e-6)
    assert not matrix[1].any() and not matrix[:, 2].any()
    assert matrix.any()
