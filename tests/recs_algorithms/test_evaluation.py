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
