from __future__ import annotations

import math

import numpy as np
import pytest

from ai.recs.base import Recommender
from ai.recs.evaluation import NotEnoughData, evaluate, evaluate_scores, leave_one_out, rank_metrics

from .conftest import make_interactions


class FixedScores(Recommender):
    """Scores given up front, one row per user (in the order asked)."""

    name = "fixed"

    def __init__(self, rows: np.ndarray):
        self.rows = np.asarray(rows, dtype=np.float32)
        self.calls = 0

    def fit(self, data, *, valid_targets=None, progress=None):
        return self

    def score(self, histories):
        out = self.rows[self.calls : self.calls + len(histories)]
        self.calls += len(histories)
        return out

    def to_state(self):
        return {}, {}

    @classmethod
    def from_state(cls, tensors, config):
        raise NotImplementedError


def test_leave_one_out_holds_out_the_last_item_for_test_and_the_one_before_for_validation():
    data = make_interactions([[0, 1, 2, 3], [4, 5], [6]], n_items=7)
    split = leave_one_out(data)
    assert split.test_targets.tolist() == [3, 5, -1]
    assert split.valid_targets.tolist() == [2, -1, -1]
    assert [h.tolist() for h in split.fit_data.histories()] == [[0, 1, 2], [4], [6]]
    assert [h.tolist() for h in split.train.histories()] == [[0, 1], [4], [6]]


def test_leave_one_out_needs_two_users_with_two_interactions():
    with pytest.raises(NotEnoughData, match="too little data"):
        leave_one_out(make_interactions([[0, 1], [2]], n_items=3))


def test_metrics_match_a_hand_computed_example():
    # 6 items, k=2. User 0: target 3 ranked first -> hit, dcg 1. User 1: target 4 ranked second -> 1/log2(3).
    # User 2: target 0 not in its top 2 -> miss. Lists shown: {3,1}, {5,4}, {2,1} -> 5 items of 6.
    scores = np.array(
        [
            [0.0, 0.5, 0.1, 0.9, 0.2, 0.3],
            [0.0, 0.1, 0.2, 0.3, 0.8, 0.9],
            [0.1, 0.8, 0.9, 0.0, 0.0, 0.0],
        ]
    )
    histories = [np.array([], dtype=np.int64)] * 3
    metrics = evaluate_scores(FixedScores(scores), histories, np.array([3, 4, 0]), n_items=6, k=2)
    assert metrics.users == 3
    assert metrics.hr == pytest.approx(2 / 3)
    assert metrics.ndcg == pytest.approx((1.0 + 1.0 / math.log2(3)) / 3)
    assert metrics.coverage == pytest.approx(5 / 6)


def test_items_already_in_the_history_are_excluded_from_the_ranking():
    scores = np.array([[0.9, 0.8, 0.7, 0.1, 0.0]])
    top, ranks = rank_metrics(scores, [np.array([0, 1])], np.array([2]), k=2)
    assert top.tolist() == [[2, 3]]
    assert ranks.tolist() == [0]


def test_users_without_a_target_are_not_counted():
    scores = np.array([[0.0, 1.0, 0.0]])
    metrics = evaluate_scores(FixedScores(scores), [np.array([0]), np.array([0])], np.array([-1, 1]), n_items=3, k=1)
    assert metrics.users == 1 and metrics.hr == 1.0 and metrics.ndcg == 1.0


def test_evaluate_refits_with_the_tuned_parameters_on_everything_but_the_test_targets(planted_baskets):
    from ai.recs.algorithms.cooccurrence import CoOccurrence

    seen = []

    def factory(**kwargs):
        seen.append(kwargs)
        return CoOccurrence(**kwargs)

    result = evaluate("cooccurrence", factory, planted_baskets, k=10)
    assert seen[0] == {} and set(seen[1]) == {"recency"}
    # The tuned parameters, and the long-term weight chosen on the validation targets: none for baskets
    # of 4 (no history outgrows the serving window, so every candidate weight ranks the same).
    assert {k: v for k, v in result.params.items() if not k.startswith("long_term")} == seen[1]
    assert result.params["long_term"] is None
    assert len(set(result.params["long_term_ndcg"].values())) == 1
    assert result.users == planted_baskets.n_users
    assert result.as_row()["model"] == "cooccurrence"


def test_without_refit_the_tuned_model_is_ranked(planted_baskets):
    from ai.recs.algorithms.cooccurrence import CoOccurrence

    made = []

    def factory(**kwargs):
        made.append(CoOccurrence(**kwargs))
        return made[-1]

    result = evaluate("cooccurrence", factory, planted_baskets, refit=False)
    assert len(made) == 1 and result.fit_s == result.tune_s > 0
    assert result.params["recency"] == made[0].recency and result.params["long_term"] is None


def test_rare_item_metrics_count_only_the_cases_whose_target_has_few_training_interactions():
    from ai.recs.metrics import rare_item_mask

    # Training rows: item 0 five times, item 1 four times, item 2 once, items 3 and 4 never.
    training_items = np.array([0] * 5 + [1] * 4 + [2])
    rare = rare_item_mask(training_items, n_items=5)
    assert rare.tolist() == [False, True, True, True, True]  # fewer than 5 interactions
    # k=2. User 0: target 0 (common) ranked first. User 1: target 1 (rare) ranked second -> 1/log2(3).
    # User 2: target 3 (rare) not in the top 2. User 3: no target.
    scores = np.array(
        [
            [0.9, 0.1, 0.2, 0.0, 0.0],
            [0.0, 0.5, 0.9, 0.1, 0.0],
            [0.9, 0.8, 0.0, 0.1, 0.0],
            [0.0, 0.0, 0.0, 0.0, 0.0],
        ]
    )
    histories = [np.array([], dtype=np.int64)] * 4
    metrics = evaluate_scores(
        FixedScores(scores[:3]), histories[:3], np.array([0, 1, 3]), n_items=5, k=2, rare_items=rare
    )
    assert metrics.users == 3 and metrics.rare_users == 2
    assert metrics.hr == pytest.approx(2 / 3)
    assert metrics.hr_rare == pytest.approx(1 / 2)
    assert metrics.ndcg_rare == pytest.approx((1.0 / math.log2(3)) / 2)
    assert metrics.ndcg == pytest.approx((1.0 + 1.0 / math.log2(3)) / 3)
    # Without a mask the rare figures are absent, the others unchanged.
    plain = evaluate_scores(FixedScores(scores[:3]), histories[:3], np.array([0, 1, 3]), n_items=5, k=2)
    assert plain.rare_users is None and plain.ndcg_rare is None and plain.ndcg == pytest.approx(metrics.ndcg)


def test_every_row_reports_the_rare_item_cases_counted_on_the_final_fits_data():
    from ai.recs.algorithms.popularity import Popularity

    # Item 0 is bought by everyone; each user's last item (the test target) is bought by them alone.
    data = make_interactions([[0, 1, 2 + u] for u in range(6)], n_items=8)
    row = evaluate("popularity", Popularity, data, k=10).as_row()
    assert row["rare_users"] == 6  # items 2..7: 0 training interactions each (the test rows are held out)
    assert row["hr@10_rare"] == pytest.approx(row["hr@10"])
    assert set(row) >= {"hr@10_rare", "ndcg@10_rare", "rare_users"}


def test_thinning_leaves_the_chosen_items_few_training_interactions_and_every_target_as_it_was():
    from ai.recs.split import thin_items

    rng = np.random.default_rng(0)
    data = make_interactions([list(rng.integers(0, 20, size=rng.integers(3, 15))) for _ in range(200)], n_items=20)
    thinned = thin_items(data, 0.25, keep=2, seed=1)
    before, after = leave_one_out(data), leave_one_out(thinned)
    assert np.array_equal(before.test_targets, after.test_targets)
    assert np.array_equal(before.valid_targets, after.valid_targets)
    counts_before = np.bincount(before.train.items, minlength=20)
    counts_after = np.bincount(after.train.items, minlength=20)
    thinned_items = np.flatnonzero(counts_after < counts_before)
    assert len(thinned_items) == 5  # a quarter of 20
    # Each keeps its 2 earliest training rows, plus the rows just before some user's targets (protected).
    bounds = np.searchsorted(data.users, np.arange(data.n_users + 1))
    lengths = np.diff(bounds)
    assert (lengths >= 3).all()
    protected = np.bincount(data.items[bounds[1:] - 3], minlength=20)
    assert (counts_after[thinned_items] == 2 + protected[thinned_items]).all()
    untouched = np.setdiff1d(np.arange(20), thinned_items)
    assert np.array_equal(counts_after[untouched], counts_before[untouched])
    assert np.array_equal(thin_items(data, 0.25, keep=2, seed=1).items, thinned.items)  # seeded
    with pytest.raises(ValueError, match="between 0 and 1"):
        thin_items(data, 1.0)
