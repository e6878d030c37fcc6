"""SASRec trains until validation stops improving, and starts from a trained model's weights (warm start)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ai.recs.algorithms.sasrec import SASRec, WarmStart
from ai.recs.split import leave_one_out

from .conftest import make_interactions


def tiny(**kwargs) -> SASRec:
    options = dict(max_len=10, hidden=32, layers=1, heads=1, dropout=0.1, lr=0.01, batch_size=64, epochs=12, device="cpu")
    return SASRec(**{**options, **kwargs})


def warm_from(model: SASRec, item_keys) -> WarmStart:
    tensors, config = model.to_state()
    return WarmStart(tensors=tensors, config=config, item_keys=list(item_keys), label="v1")


@pytest.fixture
def walks():
    """Shoppers walk 8 items in order (item i is followed by i + 1 mod 8)."""
    rng = np.random.default_rng(3)
    histories = []
    for _ in range(60):
        start = int(rng.integers(8))
        histories.append([(start + step) % 8 for step in range(5)])
    return make_interactions(histories, n_items=8)


def test_early_stopping_ends_training_when_validation_ndcg_plateaus(walks):
    """lr=0: the validation NDCG never changes, so training stops `patience` epochs after the first."""
    split = leave_one_out(walks)
    model = tiny(lr=0.0, epochs=50, patience=2).fit(split.train, valid_targets=split.valid_targets)
    assert [point["epoch"] for point in model.history] == [1, 2, 3]
    assert len({point["val_ndcg"] for point in model.history}) == 1
    assert model.best_epoch == 1
    assert model.stopped == "early stopping after 3 of 50 epochs (best 1)"


def test_without_validation_training_runs_every_epoch(walks):
    model = tiny(epochs=3, patience=1).fit(walks)
    assert [point["epoch"] for point in model.history] == [1, 2, 3]
    assert model.stopped == "ran all 3 epochs"


def test_warm_start_loads_the_shared_items_by_key_and_initialises_new_ones_fresh(walks):
    old = tiny(epochs=2).fit(walks)  # item keys 0..7
    old_table = old.net.item_emb.weight.detach().clone()
    # The new data: keys in another order, item 0 gone, two new products (keys 100 and 101).
    new_keys = [7, 100, 3, 1, 2, 101, 4, 5, 6]
    data = make_interactions([[0, 2, 3, 4], [3, 4, 6, 7], [1, 5, 8, 0]] * 3, n_items=9)
    data.item_keys = new_keys
    model = tiny(epochs=1, warm_start=warm_from(old, range(8)))
    model._setup(data)
    assert model.warm_loaded
    assert model.warm_started == "warm start: 7 of 9 items from v1"
    table = model.net.item_emb.weight.detach()
    for new_index, key in enumerate(new_keys):
        if key < 8:
            assert torch.equal(table[new_index + 1], old_table[key + 1]), key
        else:  # a new product: a fresh vector, not one of the old ones
            assert not any(torch.allclose(table[new_index + 1], row) for row in old_table)
    assert torch.equal(table[0], torch.zeros(32))  # padding
    old_state = old.net.state_dict()
    for name, tensor in model.net.state_dict().items():
        if name.startswith("encoder."):
            assert torch.equal(tensor, old_state[name]), name


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"hidden": 16}, "cold start: v1 differs in hidden"),
        ({"layers": 2}, "cold start: v1 differs in layers"),
        ({"max_len": 5}, "cold start: v1 differs in max_len"),
    ],
)
def test_a_different_architecture_starts_cold_and_says_why(walks, change, reason):
    old = tiny(epochs=1).fit(walks)
    model = tiny(epochs=1, warm_start=warm_from(old, range(8)), **change)
    model.fit(walks)
    assert not model.warm_loaded
    assert model.warm_started == reason
    assert model.to_state()[1]["warm_started"] == reason


def test_no_shared_item_starts_cold(walks):
    old = tiny(epochs=1).fit(walks)
    model = tiny(epochs=1, warm_start=warm_from(old, range(1000, 1008))).fit(walks)
    assert (model.warm_loaded, model.warm_started) == (False, "cold start: no item shared with v1")


@pytest.mark.slow
def test_a_warm_started_run_begins_where_the_live_model_ended(planted_sequences):
    """On the same data, the warm start's validation NDCG before any step (epoch 0) is the trained model's,
    and its first epoch beats a cold start's first epoch by far."""
    split = leave_one_out(planted_sequences)
    live = tiny(patience=3).fit(split.train, valid_targets=split.valid_targets)
    live_best = max(point["val_ndcg"] for point in live.history)
    assert live_best > 0.8

    # One epoch each at a lower learning rate (at 0.01 this easy task is learnt in one epoch from scratch).
    warm = tiny(epochs=1, lr=0.001, warm_start=warm_from(live, planted_sequences.item_keys))
    warm.fit(split.train, valid_targets=split.valid_targets)
    cold = tiny(epochs=1, lr=0.001).fit(split.train, valid_targets=split.valid_targets)
    assert warm.history[0]["epoch"] == 0
    assert warm.history[0]["val_ndcg"] == pytest.approx(live_best, abs=1e-6)
    assert warm.history[1]["val_ndcg"] > 0.9 > 0.6 > cold.history[0]["val_ndcg"]


@pytest.mark.slow
def test_a_warm_start_that_no_epoch_improves_keeps_the_loaded_weights(planted_sequences):
    split = leave_one_out(planted_sequences)
    live = tiny(patience=3).fit(split.train, valid_targets=split.valid_targets)
    warm = tiny(lr=0.0, patience=2, epochs=20, warm_start=warm_from(live, planted_sequences.item_keys))
    warm.fit(split.train, valid_targets=split.valid_targets)
    assert [point["epoch"] for point in warm.history] == [0, 1, 2]
    assert warm.best_epoch == 0 and warm.stopped == "early stopping after 2 of 20 epochs (best 0)"
    for name, tensor in live.net.state_dict().items():
        assert torch.equal(warm.net.state_dict()[name], tensor), name
