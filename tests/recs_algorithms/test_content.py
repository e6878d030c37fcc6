from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from ai.recs.algorithms.content import ContentSimilarity

from .conftest import make_interactions

KITCHEN = ["White ceramic teapot", "Blue enamel coffee mug", "Set of 4 tea cups", "Glass teapot with infuser",
           "Espresso coffee cups"]
CLOTHES = ["Wool winter scarf", "Striped cotton socks", "Knitted woolly hat", "Leather gloves", "Cashmere scarf"]


@pytest.fixture
def fitted() -> ContentSimilarity:
    texts = KITCHEN + CLOTHES
    # Nobody has interacted with items 4 and 9: the content model still knows them from their text.
    data = make_interactions([[0, 1], [5, 6], [2, 3]], n_items=len(texts), texts=texts)
    return ContentSimilarity(device="cpu").fit(data)


@pytest.mark.slow
def test_similar_products_come_from_the_same_kind_of_text(fitted):
    assert fitted.embeddings.shape == (10, 384)
    assert np.allclose(fitted.embeddings.norm(dim=1).numpy(), 1.0, atol=1e-5)
    items, scores = fitted.similar(0, 3)  # white ceramic teapot
    assert 3 in items.tolist() and 0 not in items.tolist()
    assert set(items.tolist()) <= set(range(5))
    assert np.all(np.diff(scores) <= 0)
    items, _ = fitted.similar(9, 2)  # cashmere scarf, never bought
    assert items[0] == 5  # wool winter scarf


@pytest.mark.slow
def test_history_of_clothes_ranks_clothes_above_kitchenware_and_state_round_trips(fitted):
    scores = fitted.score([np.array([5, 7]), np.array([], dtype=np.int64)])
    assert scores[0, 5:].min() > scores[0, :5].max()
    assert not scores[1].any()
    tensors, config = fitted.to_state()
    loaded = ContentSimilarity.from_state(load_tensors(save_tensors(tensors)), json.loads(json.dumps(config)))
    assert np.array_equal(loaded.score([np.array([1, 2])]), fitted.score([np.array([1, 2])]))
    assert fitted.similar_to_text("porcelain teapot", 1)[0].tolist()[0] in (0, 3)


def test_content_model_needs_text():
    with pytest.raises(ValueError, match="needs product text"):
        ContentSimilarity(device="cpu").fit(make_interactions([[0, 1]], n_items=2))
