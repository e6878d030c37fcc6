from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from ai.recs.algorithms.cooccurrence import CoOccurrence
from ai.recs.algorithms.sasrec import SASRec
from ai.recs.base import Recommender
from ai.recs.evaluation import evaluate, evaluate_scores, leave_one_out

from .conftest import make_interactions


class RandomScores(Recommender):
    name = "random"

    def fit(self, data, *, valid_targets=None, progress=None):
        self.n_items, self.rng = data.n_items, np.random.default_rng(0)
        return self

    def score(self, histories):
        return self.rng.random((len(histories), self.n_items))

    def to_state(self):
        return {}, {}

    @classmethod
    def from_state(cls, tensors, config):
        raise NotImplementedError


def stored_and_loaded(model: Recommender) -> Recommender:
    """Through the same formats the registry uses: safetensors bytes and a JSON config."""
    tensors, config = model.to_state()
    return type(model).from_state(load_tensors(save_tensors(tensors)), json.loads(json.dumps(config)))


def random_ndcg(data) -> float:
    return evaluate("random", RandomScores, data).ndcg


def test_cooccurrence_finds_planted_baskets_far_better_than_random(planted_baskets):
    result = evaluate("cooccurrence", CoOccurrence, planted_baskets)
    assert result.hr == 1.0  # the target is always one of the two unseen items of the shopper's group
    assert result.ndcg > 0.7
    assert random_ndcg(planted_baskets) < 0.15


def test_cooccurrence_neighbours_are_the_items_bought_together(planted_baskets):
    model = CoOccurrence(neighbours=10).fit(planted_baskets)
    items, weights = model.similar(7, 4)
    assert sorted(items.tolist()) == [5, 6, 8, 9]
    assert np.all(np.diff(weights) <= 0) and np.all(weights > 0)


def test_cooccurrence_weights_recent_items_more_and_tunes_recency_on_sequences(planted_sequences):
    split = leave_one_out(planted_sequences)
    model = CoOccurrence().fit(split.train, valid_targets=split.valid_targets)
    assert model.recency < 1.0  # in a walk, the latest item says most about the next one
    assert set(model.validation) >= {1.0, 0.0}
    result = evaluate("cooccurrence", CoOccurrence, planted_sequences)
    assert result.ndcg > 3 * random_ndcg(planted_sequences)


def test_cooccurrence_state_round_trip_gives_identical_scores(planted_baskets):
    model = CoOccurrence(neighbours=8, recency=0.7).fit(planted_baskets)
    loaded = stored_and_loaded(model)
    histories = planted_baskets.histories()[:20] + [np.array([], dtype=np.int64)]
    assert np.array_equal(model.score(histories), loaded.score(histories))
    assert np.array_equal(model.similar(3, 5)[0], loaded.similar(3, 5)[0])
    assert not model.score([np.array([], dtype=np.int64)]).any()


def tiny_sasrec(**kwargs) -> SASRec:
    options = dict(max_len=10, hidden=32, layers=1, heads=1, dropout=0.1, lr=0.01, batch_size=64, epochs=12, device="cpu")
    return SASRec(**{**options, **kwargs})


@pytest.mark.slow
def test_sasrec_learns_planted_sequences_and_stops_early(planted_sequences):
    points = []
    split = leave_one_out(planted_sequences)
    tuner = tiny_sasrec(patience=3).fit(split.train, valid_targets=split.valid_targets, progress=lambda f, **p: points.append(p))
    assert points and {"epoch", "loss", "val_ndcg", "seconds"} <= set(points[0])
    assert points[-1]["loss"] < points[0]["loss"]
    assert max(p["val_ndcg"] for p in points) > 0.8
    assert tuner.tuned_params()["epochs"] == max(points, key=lambda p: p["val_ndcg"])["epoch"]
    result = evaluate("sasrec", tiny_sasrec, planted_sequences)
    assert result.hr > 0.9 and result.ndcg > 0.8
    assert random_ndcg(planted_sequences) < 0.15


def test_the_learning_rate_falls_after_an_epoch_without_a_better_validation_and_the_refit_replays_it(planted_baskets):
    split = leave_one_out(planted_baskets)
    tuner = tiny_sasrec(epochs=8, patience=8, lr=0.05, lr_decay=0.5).fit(split.train, valid_targets=split.valid_targets)
    rates = [point["lr"] for point in tuner.history]
    best = float("-inf")
    for point, next_rate in zip(tuner.history, rates[1:], strict=False):
        improved = point["val_ndcg"] > best
        best = max(best, point["val_ndcg"])
        assert next_rate == pytest.approx(point["lr"] * (1.0 if improved else 0.5))
    assert rates[-1] < rates[0]  # on this data validation stops improving within 8 epochs at lr 0.05
    tuner.best_epoch = len(rates)  # as if the last epoch had been the best: the refit replays every rate
    params = tuner.tuned_params()
    assert params["lr_schedule"] == rates and params["epochs"] == len(rates)
    refit = tiny_sasrec(**{"lr": 0.05, "lr_decay": 0.5, **params}).fit(split.train)
    assert [point["lr"] for point in refit.history] == rates
    assert "lr_schedule" not in tiny_sasrec(epochs=4, lr_decay=1.0).fit(split.train, valid_targets=split.valid_targets).tuned_params()


def test_sasrec_state_round_trip_gives_identical_scores():
    data = make_interactions([[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 0]] * 4, n_items=5)
    model = tiny_sasrec(epochs=3, max_len=3).fit(data)
    loaded = stored_and_loaded(model)
    histories = [np.array([0, 1, 2, 3, 4]), np.array([3]), np.array([], dtype=np.int64)]
    scores = model.score(histories)
    assert scores.shape == (3, 5)
    assert np.allclose(scores, loaded.score(histories), atol=1e-6)
    assert not scores[2].any()  # no history, no opinion
    # Only the most recent max_len items count.
    assert np.allclose(model.score([np.array([4, 0, 1, 2])]), model.score([np.array([0, 1, 2])]), atol=1e-6)
    assert loaded.similar(0, 2)[0].tolist() != [0] and 0 not in loaded.similar(0, 4)[0]


def test_sasrec_scores_in_eval_mode_and_keeps_the_text_aware_table_between_calls():
    """Serving puts a network left in training mode into eval mode (no dropout: the same scores twice),
    and a network already in eval mode is not re-walked: the text-aware item table computed for the first
    call is reused by the next instead of being recomputed on every call."""
    model = tiny_sasrec(dropout=0.5, text_init=True)
    model.n_items, model.text_dim = 6, 8
    model.net = model._new_net()
    with torch.no_grad():
        model.net.text_emb.normal_()
    model.net.train()
    history = [np.array([0, 3, 2])]
    first = model.score(history)
    assert not model.net.training
    assert np.array_equal(first, model.score(history))
    table = model.net._frozen_table
    assert table is not None
    model.score(history)
    assert model.net._frozen_table is table
    model.net.train()  # training again drops it; serving after that recomputes it
    assert np.allclose(model.score(history), first, atol=1e-6)
    assert model.net._frozen_table is not table


@pytest.mark.parametrize(("heads", "layers", "text_dim"), [(1, 2, 0), (2, 1, 0), (4, 3, 8)])
def test_sasrec_serving_forward_equals_the_transformers_forward(heads, layers, text_dim):
    """The serving pass reads the encoder's weights in plain torch calls; it must give what GPT2Model gives,
    at every position and history length, with random (not initial) weights."""
    from ai.recs.algorithms.sasrec import SASRecNet

    torch.manual_seed(0)
    net = SASRecNet(30, max_len=12, hidden=16, layers=layers, heads=heads, dropout=0.3, text_dim=text_dim).eval()
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.normal_(std=0.5)
        if text_dim:
            net.text_emb.normal_()
    items = torch.tensor([[3, 7, 1, 30, 0, 0, 0], [5, 2, 9, 9, 11, 4, 8]])
    with torch.inference_mode():
        for length in (1, 4, 7):
            expected = net(items[:, :length])
            assert torch.allclose(net.serve_forward(items[:, :length]), expected, atol=1e-5)


@pytest.mark.parametrize("length", [2, 4, 5, 9, 10, 23])
def test_every_transition_of_a_long_history_trains_once(length):
    from ai.recs.algorithms.sasrec import _training_windows

    history = np.arange(length) * 10
    windows = _training_windows([history, np.array([7])], max_len=4, every=True)
    transitions = [(a, b) for w in windows for a, b in zip(w[:-1], w[1:], strict=True)]
    assert sorted(transitions) == list(zip(history[:-1], history[1:], strict=True))  # each once, none made up
    assert all(2 <= len(w) <= 5 for w in windows)
    assert windows[0].tolist() == history[-5:].tolist()  # the latest window first
    assert [w.tolist() for w in _training_windows([history], max_len=4, every=False)] == [history[-5:].tolist()]


def test_sasrec_needs_a_history_of_two():
    with pytest.raises(ValueError, match="two or more"):
        tiny_sasrec(epochs=1).fit(make_interactions([[0], [1]], n_items=2))


def test_sasrec_device_argument():
    assert tiny_sasrec(device="cpu").device == torch.device("cpu")
    assert SASRec(device=None).device.type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.slow
@pytest.mark.parametrize("sampling", ["uniform", "popularity"])
def test_sampled_training_learns_the_planted_sequences(planted_sequences, sampling):
    """A softmax over 16 sampled negatives (of 60 items): the loss falls and NDCG beats popularity."""
    from ai.recs.algorithms.popularity import Popularity
    from ai.recs.algorithms.sasrec import SASRec

    split = leave_one_out(planted_sequences)
    model = SASRec(
        loss="sampled", sampling=sampling, negatives=16, epochs=12, patience=12, hidden=16, layers=1, heads=1,
        dropout=0.0, lr=0.02,
        max_len=10, seed=0, device="cpu",
    ).fit(split.fit_data)
    assert model.sampled() and model.to_state()[1]["sampled"] is True
    losses = [point["loss"] for point in model.history]
    assert losses[-1] < 0.5 * losses[0]
    sampled = evaluate_scores(model, split.fit_data.histories(), split.test_targets, planted_sequences.n_items)
    popular = Popularity(half_life_days=0).fit(split.fit_data)
    baseline = evaluate_scores(popular, split.fit_data.histories(), split.test_targets, planted_sequences.n_items)
    assert sampled.ndcg > 0.9
    assert baseline.ndcg < 0.1


@pytest.mark.parametrize(("loss", "n_items", "sampled"), [("auto", 10, False), ("auto", 10_000, False), ("auto", 12_101, True), ("auto", 60_000, True),
                                                         ("softmax", 6_000, False), ("sampled", 10, True)])
def test_the_loss_is_chosen_by_catalogue_size_unless_named(loss, n_items, sampled):
    from ai.recs.algorithms.sasrec import SASRec

    model = SASRec(loss=loss, device="cpu")
    model.n_items = n_items
    assert model.sampled() is sampled


def test_an_unknown_loss_is_refused():
    from ai.recs.algorithms.sasrec import SASRec

    with pytest.raises(ValueError, match="loss must be one of auto, softmax, sampled"):
        SASRec(loss="hinge")
    with pytest.raises(ValueError, match="sampling must be one of uniform, popularity"):
        SASRec(sampling="zipf")


@pytest.mark.slow
def test_text_aware_items_rank_an_unseen_product_by_its_description():
    """Shoppers stay within one kind of product; two products nobody touched: the one whose text is
    like the history's ranks above the middle of the catalogue and above the unlike one."""
    from ai.recs.algorithms.sasrec import SASRec

    kinds = {
        "candle": ["{} scented candle in a glass jar", "{} pillar candle, unscented wax"],
        "mug": ["{} ceramic coffee mug", "{} enamel camping mug"],
        "bag": ["{} jute shopping bag", "{} canvas tote bag"],
    }
    colours = ["Red", "Blue", "Green", "White", "Black"]
    texts, groups = [], []
    for group, patterns in kinds.items():
        for pattern in patterns:
            for colour in colours:
                texts.append(pattern.format(colour))
                groups.append(group)
    unseen_candle, unseen_mug = len(texts), len(texts) + 1
    texts += ["Vanilla scented candle in a glass jar", "Large ceramic coffee mug"]
    rng = np.random.default_rng(3)
    histories = []
    for user in range(240):
        group = list(kinds)[user % 3]
        members = [i for i, g in enumerate(groups) if g == group]
        histories.append(list(rng.choice(members, size=5, replace=False)))
    data = make_interactions(histories, n_items=len(texts), texts=texts)
    model = SASRec(text_init=True, epochs=15, patience=15, hidden=32, layers=1, heads=1, dropout=0.0, lr=0.01,
                   max_len=10, seed=0, device="cpu").fit(data)
    candles = np.array([i for i, g in enumerate(groups) if g == "candle"][:4])
    scores = model.score([candles])[0]
    scores[candles] = -np.inf
    ranking = list(np.argsort(-scores))
    assert ranking.index(unseen_candle) < ranking.index(unseen_mug)
    assert ranking.index(unseen_candle) < len(texts) // 2
    # Round trip: the stored model ranks the same way.
    restored = SASRec.from_state(*model.to_state())
    np.testing.assert_allclose(restored.score([candles])[0][np.isfinite(scores)], scores[np.isfinite(scores)], rtol=1e-4, atol=1e-4)
