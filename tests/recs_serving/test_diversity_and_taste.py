"""Serving: the diversity re-ranking of personal lists (MMR in the item space the co-occurrence version
stores) and the long-term taste weight tuned at training and stored with the version."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ai import registry
from ai.kinds import TrainedModel
from ai.kinds.recs import ITEM_VECTORS_KEY, ServedRecommender
from ai.recs import service
from ai.recs.algorithms.cooccurrence import CoOccurrence
from ai.recs.data import build_interactions
from ai.recs.placements import LONG_TERM_WEIGHT, PLACEMENTS
from ai.recs.service import recommend
from ai.recs.sources import Source

from .conftest import add_events


@pytest.fixture
def near_duplicates(products):
    """Product 0 is bought with 1, 2 and 3 (often) and with 5 (less often): co-occurrence scores 1.0,
    0.916, 0.829 and 0.548 from product 0. In the stored item space 1, 2 and 3 point one way and 0 and 5
    the other (products nobody bought are not in the space)."""
    partners = [(1, 10), (2, 9), (3, 8), (5, 5)]
    for partner, shoppers in partners:
        for n in range(shoppers):
            add_events(f"s{partner}-{n}", [products[0].pk, products[partner].pk], event_type="purchase")
    data = build_interactions()
    algorithm = CoOccurrence().fit(data)
    tensors, config = algorithm.to_state()
    position = {key: i for i, key in enumerate(data.item_keys)}
    vectors = np.tile(np.array([0.0, 1.0], dtype=np.float32), (len(data.item_keys), 1))
    for n in (1, 2, 3):
        vectors[position[products[n].pk]] = [1.0, 0.0]
    trained = TrainedModel(
        tensors={**tensors, ITEM_VECTORS_KEY: torch.from_numpy(vectors)},
        config={"algorithm": config, "item_keys": [int(k) for k in data.item_keys], "options": {}},
        metrics={"ndcg@10": 0.1},
    )
    registry.promote(registry.register_version("cooccurrence", trained))
    registry.clear_cache()
    service.reset_caches()
    add_events("me", [products[0].pk], event_type="purchase")
    return products


@pytest.mark.parametrize("weight, expected", [(0.0, [1, 2, 3, 5]), (0.3, [1, 5, 2, 3])])
def test_home_list_is_reranked_for_diversity_by_the_placements_weight(settings, near_duplicates, weight, expected):
    settings.AI_MAX_PER_CATEGORY = 0
    settings.AI_RECS_DIVERSITY = {"home": weight}
    recs = recommend(placement="home", visitor_id="me", limit=4)
    assert [item.id for item in recs.items] == [near_duplicates[n].pk for n in expected]


def test_other_placements_are_not_reranked_unless_configured(settings, near_duplicates):
    settings.AI_MAX_PER_CATEGORY = 0
    settings.AI_RECS_DIVERSITY = {}
    assert service.diversity_weight(PLACEMENTS["home"]) == PLACEMENTS["home"].diversity > 0
    assert service.diversity_weight(PLACEMENTS["confirmation"]) == 0.0
    recs = recommend(placement="confirmation", visitor_id="me", basket_product_ids=[near_duplicates[0].pk], limit=4)
    assert [item.id for item in recs.items] == [near_duplicates[n].pk for n in (1, 2, 3, 5)]
    settings.AI_RECS_DIVERSITY = {"confirmation": 0.3}
    recs = recommend(placement="confirmation", visitor_id="me", basket_product_ids=[near_duplicates[0].pk], limit=4)
    assert [item.id for item in recs.items] == [near_duplicates[n].pk for n in (1, 5, 2, 3)]


def test_without_a_stored_item_space_the_list_is_not_reranked(settings, products):
    from .conftest import register_live

    settings.AI_MAX_PER_CATEGORY = 0
    settings.AI_RECS_DIVERSITY = {"home": 0.9}
    for partner, shoppers in [(1, 10), (2, 9), (3, 8), (5, 5)]:
        for n in range(shoppers):
            add_events(f"s{partner}-{n}", [products[0].pk, products[partner].pk], event_type="purchase")
    data = build_interactions()
    register_live("cooccurrence", CoOccurrence().fit(data), data.item_keys)
    add_events("me", [products[0].pk], event_type="purchase")
    recs = recommend(placement="home", visitor_id="me", limit=4)
    assert [item.id for item in recs.items] == [products[n].pk for n in (1, 2, 3, 5)]


def served(config: dict) -> Source:
    model = ServedRecommender("sasrec", algorithm=None, item_keys=np.array([1], dtype=np.int64), config=config)  # type: ignore[arg-type]
    return Source("sasrec", model, 1)


def test_the_long_term_weight_tuned_with_the_version_replaces_the_placements_default():
    home = PLACEMENTS["home"]
    assert home.long_term_weight(served({"serving": {"long_term": 0.75}})) == 0.75
    assert home.long_term_weight(served({"serving": {"long_term": 0.0}})) == 0.0
    assert home.long_term_weight(served({})) == LONG_TERM_WEIGHT
    assert PLACEMENTS["basket"].long_term_weight(served({"serving": {"long_term": 0.75}})) == 0.0


def test_the_kind_stores_the_long_term_weight_it_tuned_on_validation_data(products, django_capture_on_commit_callbacks):
    from ai.recs.split import leave_one_out
    from ai.recs.taste import tune_long_term

    from .test_kinds import train

    # Shoppers who buy again what they bought before: the whole history differs from the recent window,
    # and with no recency decay the co-occurrence scores of the two views differ.
    for shopper in range(120):
        group = [products[(shopper % 4) * 3 + n].pk for n in range(3)]
        add_events(f"r{shopper}", [group[0], group[1], group[0], group[2], group[1], group[0]], event_type="purchase")
    run = train("cooccurrence", {"refit_all": False}, django_capture_on_commit_callbacks)
    split = leave_one_out(build_interactions())
    tuning = CoOccurrence()
    tuning.fit(split.train, valid_targets=split.valid_targets)
    expected = tune_long_term(tuning, split.train.histories(), split.valid_targets)["weight"]
    model = registry.live_model("cooccurrence")
    assert model.long_term == expected
    if expected is None:  # every candidate tied: nothing stored, serving keeps the placement's 0.5
        assert "serving" not in model.config and "long-term weight" not in run.log_tail
    else:
        assert model.config["serving"] == {"long_term": expected}
        assert any(f"long-term weight {expected}" in line for line in run.log_tail.splitlines())


@pytest.mark.parametrize("value, errors", [({}, 0), ({"home": 0.2}, 0), ([0.2], 1)])
def test_the_diversity_setting_passes_the_settings_check_only_as_a_dict(settings, value, errors):
    from ai.checks import type_errors

    settings.AI_RECS_DIVERSITY = value
    assert len([e for e in type_errors() if "RECS_DIVERSITY" in e.msg]) == errors
