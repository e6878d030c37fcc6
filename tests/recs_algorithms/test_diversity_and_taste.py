"""Diversity re-ranking (MMR) and long-/short-term taste, offline and in `ai_eval recs`."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from django.core.management import CommandError, call_command

from ai.recs.diversify import Diversifier, mmr_order
from ai.recs.history import HISTORY_LENGTH
from ai.recs.taste import WINDOW, Blend, distinct_items, normalise_rows, tune_long_term

from .test_ai_eval import interactions_file  # noqa: F401  (fixture)

UNIT = {
    "a": [1.0, 0.0], "a2": [0.995, 0.0998], "c": [0.0, 1.0], "a3": [1.0, 0.0],
}


def vectors(*names: str) -> np.ndarray:
    return np.array([UNIT[n] for n in names], dtype=np.float32)


@pytest.mark.parametrize("weight, order", [(0.0, [0, 1, 2, 3]), (0.5, [0, 2, 1, 3]), (1.0, [0, 2, 1, 3])])
def test_mmr_takes_the_best_then_the_least_similar(weight, order):
    relevance = np.array([1.0, 0.9, 0.5, 0.0])
    assert mmr_order(relevance, vectors("a", "a2", "c", "a3"), weight, 4).tolist() == order


def test_mmr_picks_k_and_keeps_the_rest_in_relevance_order():
    relevance = np.array([1.0, 0.9, 0.5, 0.0])
    assert mmr_order(relevance, vectors("a", "a2", "c", "a3"), 0.5, 2).tolist() == [0, 2, 1, 3]


def test_diversifier_reranks_each_row_from_its_best_unseen_items():
    vecs = vectors("a", "a2", "c", "a3")
    scores = torch.tensor([[1.0, 0.9, 0.5, 0.0], [-np.inf, 0.9, 0.5, 0.8]])
    top = Diversifier(vecs, 0.5, pool=4).top(scores, 2)
    assert top.tolist() == [[0, 2], [1, 2]]  # row 2: item 0 is seen (-inf) and never picked


def test_distinct_items_orders_by_last_occurrence():
    assert distinct_items(np.array([3, 1, 3, 2, 1])).tolist() == [3, 2, 1]


def test_normalise_rows_is_min_max_per_row():
    out = normalise_rows(np.array([[1.0, 3.0, 2.0], [5.0, 5.0, 5.0], [-np.inf, 0.0, 2.0]]))
    assert out.tolist() == [[0.0, 1.0, 0.5], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]


def test_blend_adds_weighted_normalised_scores():
    class Fixed:
        def __init__(self, row):
            self.row = np.array([row], dtype=np.float32)

        def score(self, histories):
            return np.repeat(self.row, len(histories), axis=0)

    mixed = Blend([(0.6, Fixed([0.0, 10.0, 5.0])), (0.4, Fixed([2.0, 0.0, 1.0]))]).score([np.array([0])])
    assert mixed[0].tolist() == pytest.approx([0.4, 0.6, 0.5])


class FirstItemPointer:
    """Scores item h[0] + 100 highest: right only when it sees the start of the whole history."""

    def score(self, histories):
        out = np.zeros((len(histories), 200), dtype=np.float32)
        for row, history in enumerate(histories):
            out[row, int(history[0]) + 100] = 1.0
        return out


def test_the_long_term_weight_is_tuned_on_the_targets_only_the_whole_history_predicts():
    histories = [np.arange(start, start + 6) for start in range(0, 60, 6)]
    targets = np.array([int(h[0]) + 100 for h in histories])
    tuned = tune_long_term(FirstItemPointer(), histories, targets, window=3, min_users=10)
    assert tune_long_term(FirstItemPointer(), histories, targets, window=3, min_users=11)["weight"] is None
    # 0: the recent window alone points elsewhere (the target only ties with every other item at 0);
    # 0.25: second; 0.75 and 1: first (ties between candidates: the smaller weight).
    assert tuned["weight"] == 0.75
    assert tuned["ndcg"]["0.0"] < 0.1
    assert tuned["ndcg"]["0.25"] == pytest.approx(1 / np.log2(3), abs=1e-5)
    assert tuned["ndcg"]["0.75"] == tuned["ndcg"]["1.0"] == 1.0


def test_short_histories_without_repeats_cannot_tune_the_long_term_weight():
    histories = [np.arange(start, start + 3) for start in range(0, 30, 3)]
    tuned = tune_long_term(FirstItemPointer(), histories, np.array([int(h[0]) + 100 for h in histories]), window=3,
                           min_users=1)
    assert tuned["weight"] is None


def test_the_offline_window_is_the_serving_window():
    assert WINDOW == HISTORY_LENGTH


def run(*args) -> list[dict]:
    out = io.StringIO()
    call_command("ai_eval", "recs", *args, "--json", stdout=out, stderr=io.StringIO())
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_ai_eval_measures_the_blend_and_the_mmr_reranked_lists(interactions_file):  # noqa: F811
    rows = run("--interactions", str(interactions_file), "--models", "cooccurrence,popularity",
               "--blend", "cooccurrence=0.7,popularity=0.3", "--diversity", "0.5")
    by_name = {row["model"]: row for row in rows}
    assert [row["model"] for row in rows] == [
        "cooccurrence", "cooccurrence+mmr0.5", "popularity", "popularity+mmr0.5", "blend", "blend+mmr0.5",
    ]
    # Baskets of 4: no history outgrows the window, so there is nothing to tune the long-term weight on
    # (the blend then mixes with serving's default, as serving would).
    assert by_name["cooccurrence"]["params"]["long_term"] is None
    assert by_name["blend"]["params"] == {"blend": {"cooccurrence": 0.7, "popularity": 0.3},
                                          "long_term": {"cooccurrence": 0.5, "popularity": 0.5}}
    assert by_name["cooccurrence"]["hr@10"] == 1.0
    for name in ("cooccurrence", "blend"):
        assert by_name[f"{name}+mmr0.5"]["diversity@10"] > by_name[name]["diversity@10"]
        assert by_name[f"{name}+mmr0.5"]["params"]["diversity"] == 0.5


@pytest.mark.parametrize("args, message", [
    (["--blend", "sasrec=0.6"], "--blend names model(s) not evaluated: sasrec"),
    (["--blend", "cooccurrence"], "--blend must look like sasrec=0.6,cooccurrence=0.4"),
    (["--diversity", "1.5"], "--diversity must be numbers from 0 to 1"),
    (["--diversity", "lots"], "--diversity must be numbers separated by commas"),
])
def test_bad_blend_and_diversity_are_readable_command_errors(interactions_file, args, message):  # noqa: F811
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run("--interactions", str(interactions_file), "--models", "cooccurrence", *args)
