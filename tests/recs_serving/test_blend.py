"""The arithmetic of blending: normalisation, mapping model items onto the catalogue, top-k."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ai.kinds.recs import embedding_neighbours
from ai.recs import blend, rules


@pytest.mark.parametrize(
    "scores, expected",
    [
        ([1.0, 3.0, 2.0], [0.0, 1.0, 0.5]),
        ([5.0, 5.0], [0.0, 0.0]),
        ([-np.inf, 2.0, 4.0], [0.0, 0.0, 1.0]),
        ([np.nan, np.nan], [0.0, 0.0]),
    ],
)
def test_normalise(scores, expected):
    assert blend.normalise(np.array(scores)).tolist() == pytest.approx(expected)


def test_mapping_dense_sparse_and_identity():
    catalogue = np.array([10, 20, 30, 40])
    model_keys = np.array([40, 99, 10])  # 99 is not available
    mapping = blend.mapping(catalogue, model_keys)
    assert not mapping.identity
    assert mapping.to_position.tolist() == [3, -1, 0]
    assert mapping.dense(np.array([3.0, 9.0, 1.0])).tolist() == pytest.approx([0.0, 0, 0, 0.25])
    assert mapping.sparse(np.array([0, 1, 2]), np.array([2.0, 4.0, 1.0])).tolist() == pytest.approx([0.25, 0, 0, 0.5])
    same = blend.mapping(catalogue, catalogue.copy())
    assert same.identity and same.dense(np.array([0.0, 1, 2, 4])).tolist() == pytest.approx([0, 0.25, 0.5, 1])


def test_top_k_best_first_allowed_only_ties_in_catalogue_order():
    scores = np.array([0.5, 0.9, 0.9, 0.1, 0.7], dtype=np.float32)
    allowed = np.array([True, True, True, True, False])
    assert blend.top_k(scores, 3, allowed).tolist() == [1, 2, 0]
    assert blend.top_k(scores, 10, allowed).tolist() == [1, 2, 0, 3]
    assert blend.top_k(scores, 3, np.zeros(5, dtype=bool)).tolist() == []


def test_preselect_caps_known_categories_and_never_unknown_ones(settings):
    settings.AI_MAX_PER_CATEGORY = 1
    categories = np.array([7, 7, -1, -1, 8, 8])
    assert rules.preselect(np.arange(6), categories, 10).tolist() == [0, 2, 3, 4]
    assert rules.preselect(np.arange(6), categories, 2).tolist() == [0, 2]


def test_embedding_neighbours_match_a_full_ranking():
    generator = torch.Generator().manual_seed(0)
    table = torch.nn.functional.normalize(torch.randn(50, 8, generator=generator), dim=1)
    indices, scores = embedding_neighbours(table, 5, block_rows=7)
    full = table @ table.T
    full.fill_diagonal_(-torch.inf)
    expected = torch.topk(full, 5, dim=1)
    assert torch.equal(indices.long(), expected.indices)
    assert torch.allclose(scores, expected.values)
    assert not (indices == torch.arange(50)[:, None]).any()  # never its own neighbour
