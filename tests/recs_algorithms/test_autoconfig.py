"""Configuration that follows the data (ai.recs.autoconfig, SASRec(auto=True))."""
from __future__ import annotations

import json

import numpy as np
import pytest

from ai.recs import autoconfig
from ai.recs.algorithms.sasrec import SASRec, WarmStart
from ai.recs.evaluation import leave_one_out, model_factories

from .conftest import make_interactions


def walks(users: int, n_items: int, low: int, high: int, seed: int = 0):
    """Each shopper walks the catalogue in order (item i, then i + 1), for low..high-1 steps."""
    rng = np.random.default_rng(seed)
    histories = []
    for _ in range(users):
        start, length = rng.integers(n_items), rng.integers(low, high)
        histories.append([(start + step) % n_items for step in range(length)])
    return make_interactions(histories, n_items)


def test_short_sparse_histories_get_a_short_window_and_strong_dropout():
    data = walks(400, 300, 5, 13)  # Beauty-like: about 9 per shopper, 12 per item
    p = autoconfig.profile(data)
    assert p.users == 400 and p.items == 300 and p.length_max == 12
    assert p.per_item == pytest.approx(len(data.items) / 300)
    assert autoconfig.rule_config(p) == {"max_len": 20, "hidden": 64, "dropout": 0.5}


def test_long_dense_histories_get_a_long_window_and_light_dropout():
    data = walks(300, 100, 120, 260)  # MovieLens-like: about 190 per shopper, 570 per item
    p = autoconfig.profile(data)
    assert 230 <= p.length_p90 < 260
    assert autoconfig.rule_config(p) == {"max_len": 200, "hidden": 64, "dropout": 0.2}


def test_a_window_between_the_bounds_covers_nine_tenths_of_the_histories():
    data = make_interactions([list(range(n)) for n in range(1, 101)], n_items=100)  # lengths 1..100
    p = autoconfig.profile(data)
    assert p.length_p90 == pytest.approx(90.1) and p.per_item == pytest.approx(50.5)
    assert autoconfig.rule_config(p)["max_len"] == 100  # rounded up to a multiple of 10
    assert autoconfig.rule_config(p)["dropout"] == 0.4  # 50.5 per item: 0.40 of the log-way from 0.5 to 0.2


@pytest.mark.parametrize(("per_item", "dropout"), [(5, 0.5), (20, 0.5), (63.2, 0.35), (200, 0.2), (5000, 0.2)])
def test_dropout_falls_with_the_interactions_per_item(per_item, dropout):
    assert autoconfig.rule_dropout(per_item) == dropout


def test_width_grows_with_the_data():
    small = autoconfig.Profile(1000, 500, 900_000, 9, 8, 15, 40, 0.0018, 1800)
    large = autoconfig.Profile(1000, 500, 2_000_000, 9, 8, 15, 40, 0.004, 4000)
    assert autoconfig.rule_config(small)["hidden"] == 64
    assert autoconfig.rule_config(large)["hidden"] == 128


def test_candidates_are_the_rule_then_distinct_neighbours():
    p = autoconfig.Profile(100, 50, 3000, 30, 25, 55, 90, 0.6, 60.0)
    rule = autoconfig.rule_config(p)
    assert rule == {"max_len": 60, "hidden": 64, "dropout": 0.35}
    assert autoconfig.candidates(p) == [
        rule, {**rule, "dropout": 0.15}, {**rule, "dropout": 0.55}, {**rule, "max_len": 30},
    ]
    # The median's window equal to the rule's and a dropout at the bounds: no duplicates.
    flat = autoconfig.Profile(100, 50, 3000, 30, 30, 30, 30, 0.6, 10.0)
    assert autoconfig.candidates(flat) == [
        {"max_len": 30, "hidden": 64, "dropout": 0.5}, {"max_len": 30, "hidden": 64, "dropout": 0.3},
        {"max_len": 30, "hidden": 64, "dropout": 0.6},
    ]


def small_auto(**kwargs) -> SASRec:
    options = dict(auto=True, layers=1, heads=1, lr=0.01, batch_size=64, epochs=6, patience=2, search_epochs=2,
                   seed=0, device="cpu")
    return SASRec(**{**options, **kwargs})


@pytest.mark.slow
def test_the_search_keeps_the_best_candidate_by_validation_and_stores_what_it_tried():
    data = walks(300, 60, 5, 40)
    split = leave_one_out(data)
    seen = []
    model = small_auto().fit(split.train, valid_targets=split.valid_targets, progress=lambda f, **p: seen.append(p))
    record = model.config_search
    options = autoconfig.candidates(autoconfig.profile(split.train))
    assert record["decided_by"] == "validation search"
    assert [{k: t[k] for k in autoconfig.CHOSEN} for t in record["trials"]] == options
    assert all(t["epochs"] == 2 for t in record["trials"])  # search_epochs each
    assert record["compared_at_epoch"] == 2
    scores = [t["val_ndcg"] for t in record["trials"]]
    best = options[int(np.argmax(scores))]  # the first of equals
    assert record["chosen"] == best
    assert (model.max_len, model.hidden, model.dropout) == (best["max_len"], best["hidden"], best["dropout"])
    assert model.warm_started == "continued from the configuration search's best candidate"
    assert model.history[0]["epoch"] == 0 and model.history[0]["val_ndcg"] == pytest.approx(max(scores), abs=1e-5)
    assert {p["trial"] for p in seen if "trial" in p} == set(range(1, len(options) + 1))
    # The refit takes the chosen configuration, and the search's epochs count towards its epochs.
    tuned = model.tuned_params()
    assert tuned["auto"] is False and {k: tuned[k] for k in autoconfig.CHOSEN} == best
    assert tuned["epochs"] == record["search_epochs"] + model.best_epoch
    # ... and replays their learning rates: the chosen candidate's, then the training's after it.
    assert len(record["search_rates"]) == record["search_epochs"]
    rates = record["search_rates"] + [p["lr"] for p in model.history[1:]][: model.best_epoch]
    assert tuned.get("lr_schedule", [model.lr] * len(rates)) == rates
    # Stored with the model, through the JSON config.
    tensors, config = model.to_state()
    restored = SASRec.from_state(tensors, json.loads(json.dumps(config)))
    assert restored.config_search["chosen"] == best and restored.max_len == best["max_len"]


@pytest.mark.slow
def test_the_search_and_the_training_after_it_keep_to_the_time_budget():
    data = walks(200, 40, 5, 30)
    split = leave_one_out(data)
    model = small_auto(max_seconds=0.001, epochs=50, patience=50, search_epochs=5).fit(
        split.train, valid_targets=split.valid_targets
    )
    assert all(t["stopped"] == "stopped at max_seconds after 1 of 5 epochs" for t in model.config_search["trials"])
    assert model.config_search["compared_at_epoch"] == 1
    assert model.stopped == "stopped at max_seconds after 1 of 50 epochs"
    assert model.max_seconds == 0.001  # the cap given is kept for the next fit


def test_without_validation_targets_the_rules_decide():
    data = walks(50, 30, 5, 12)
    model = small_auto(epochs=1).fit(data)
    assert model.config_search["decided_by"] == "rules (no validation targets to search with)"
    assert model.config_search["trials"] == []
    assert model.config_search["chosen"] == autoconfig.rule_config(autoconfig.profile(data))
    assert model.max_len == model.config_search["chosen"]["max_len"]


def test_a_warm_start_keeps_the_live_versions_configuration():
    data = walks(50, 30, 5, 12)
    live = SASRec(max_len=30, hidden=16, layers=1, heads=1, dropout=0.1, epochs=1, device="cpu").fit(data)
    tensors, config = live.to_state()
    warm = WarmStart(tensors=tensors, config=config, item_keys=list(range(30)), label="live v1")
    split = leave_one_out(data)
    model = small_auto(epochs=1, warm_start=warm).fit(split.train, valid_targets=split.valid_targets)
    assert model.config_search["decided_by"] == "kept from live v1 (warm start)"
    assert model.config_search["chosen"] == {"max_len": 30, "hidden": 16, "dropout": 0.1}
    assert model.warm_loaded and model.warm_started.startswith("warm start: 30 of 30 items")


def test_ai_evals_sasrec_follows_the_data_unless_its_configuration_is_given():
    assert model_factories()["sasrec"]().auto is True
    assert model_factories(options={"sasrec": {"max_len": 200}})["sasrec"]().auto is False
    assert model_factories(options={"sasrec": {"auto": False}})["sasrec"]().auto is False
    assert model_factories(options={"sasrec": {"lr": 0.003}})["sasrec"]().auto is True


@pytest.mark.parametrize("bad", [{"search_share": 0.0}, {"search_share": 1.0}, {"search_epochs": 0}])
def test_search_settings_out_of_range_are_refused(bad):
    with pytest.raises(ValueError, match="search_"):
        SASRec(**bad)
