"""A/B: a deterministic share of visitors is served the candidate version beside the live one."""
from __future__ import annotations

import pytest

from ai import registry
from ai.recs.algorithms.cooccurrence import CoOccurrence
from ai.recs.data import build_interactions
from ai.recs.service import ab_arm, recommend

from .conftest import add_events, register_live


@pytest.mark.parametrize("share, expected", [(0.0, 0.0), (0.1, 0.1), (0.5, 0.5), (1.0, 1.0)])
def test_split_is_deterministic_and_close_to_the_share(settings, share, expected):
    settings.AI_AB_CANDIDATE_SHARE = share
    visitors = [f"{n:032x}" for n in range(4000)]
    arms = [ab_arm(v) for v in visitors]
    assert arms == [ab_arm(v) for v in visitors]  # the same visitor always lands in the same arm
    assert arms.count("candidate") / len(visitors) == pytest.approx(expected, abs=0.03)


def test_no_visitor_id_is_always_live(settings):
    settings.AI_AB_CANDIDATE_SHARE = 0.5
    assert ab_arm(None) == ab_arm("") == "live"


@pytest.fixture
def live_and_candidate(products):
    for shopper in range(20):
        add_events(f"s{shopper}", [products[shopper % 4].pk, products[shopper % 4 + 4].pk], event_type="purchase")
    data = build_interactions()
    live = register_live("cooccurrence", CoOccurrence(neighbours=5, recency=1.0).fit(data), data.item_keys)
    candidate = register_live(
        "cooccurrence", CoOccurrence(neighbours=3, recency=1.0).fit(data), data.item_keys, promote=False
    )
    return live, candidate


def test_candidate_arm_is_served_the_candidate_version(settings, products, live_and_candidate):
    live, candidate = live_and_candidate
    settings.AI_AB_CANDIDATE_SHARE = 0.5
    served = {}
    for n in range(40):
        visitor = f"visitor-{n}"
        recs = recommend(placement="product_also_bought", product_id=products[0].pk, visitor_id=visitor)
        assert recs.items[0].id == products[4].pk  # both versions learnt the pair
        served[visitor] = recs.model_version_id
        assert recs.model_version_id == (candidate.pk if ab_arm(visitor) == "candidate" else live.pk)
        assert recs.arm == ab_arm(visitor)
    assert set(served.values()) == {live.pk, candidate.pk}


def test_without_an_experiment_everyone_gets_the_live_version(products, live_and_candidate):
    live, _ = live_and_candidate
    versions = {
        recommend(placement="product_also_bought", product_id=products[0].pk, visitor_id=f"v{n}").model_version_id
        for n in range(20)
    }
    assert versions == {live.pk}


def test_a_broken_candidate_falls_back_to_the_live_version(settings, products, live_and_candidate):
    live, candidate = live_and_candidate
    registry.artifact_storage().delete(f"{candidate.artifact_dir}/{registry.WEIGHTS}")
    settings.AI_AB_CANDIDATE_SHARE = 1.0
    recs = recommend(placement="product_also_bought", product_id=products[0].pk, visitor_id="v")
    assert recs.model_version_id == live.pk and recs.items
