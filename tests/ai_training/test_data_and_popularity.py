from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from ai.models import Event
from ai.recs.algorithms.popularity import DAY_S, Popularity
from ai.recs.base import Interactions
from ai.recs.data import build_interactions, summarize
from tests.factories import UserFactory


def test_build_interactions_maps_events_to_dense_indices(catalogue):
    user = UserFactory()
    now = timezone.now()
    a, b, c = catalogue[0], catalogue[1], catalogue[2]
    Event.objects.bulk_create(
        [
            Event(event_type="view", visitor_id="v1", product_id=b.pk, created_at=now - timedelta(hours=3)),
            Event(event_type="purchase", visitor_id="v1", product_id=a.pk, created_at=now - timedelta(hours=1)),
            Event(event_type="add_to_cart", visitor_id="v2", user=user, product_id=b.pk, created_at=now - timedelta(hours=2)),
            Event(event_type="search", visitor_id="v2", query="mug", created_at=now),  # not an interaction
            Event(event_type="view", visitor_id="v3", product_id=999_999, created_at=now),  # product gone
            Event(event_type="view", visitor_id="v1", product_id=c.pk, created_at=now - timedelta(days=40)),
        ]
    )
    data = build_interactions(since=now - timedelta(days=30))

    assert data.item_keys == sorted([a.pk, b.pk])
    assert sorted(data.user_keys) == sorted(["v:v1", f"u:{user.pk}"])
    assert (data.n_users, data.n_items, len(data.items)) == (2, 2, 3)
    v1 = data.user_keys.index("v:v1")
    rows = data.users == v1
    # v1's history in time order: the view of b, then the purchase of a.
    assert [data.item_keys[i] for i in data.items[rows]] == [b.pk, a.pk]
    assert data.weights[rows].tolist() == [1.0, 3.0]
    assert data.item_categories.tolist() == [a.category_id, b.category_id]
    assert summarize(data)["interactions"] == 3


def test_build_interactions_refuses_unknown_event_types(db):
    with pytest.raises(ValueError, match="Unknown event types for training: search"):
        build_interactions(event_types=["view", "search"])


def test_build_interactions_can_include_every_product_with_texts(catalogue):
    data = build_interactions(all_products=True, with_texts=True)
    assert data.n_items == len(catalogue) and len(data.items) == 0
    assert data.item_texts[0].startswith(catalogue[0].title)


def interactions(items, ages_days, weights=None, categories=None, n_items=3):
    now = 1_000 * DAY_S
    return Interactions(
        users=np.zeros(len(items), dtype=np.int64),
        items=np.asarray(items, dtype=np.int64),
        timestamps=now - np.asarray(ages_days, dtype=np.float64) * DAY_S,
        n_users=1,
        n_items=n_items,
        item_keys=[10, 20, 30][:n_items],
        weights=None if weights is None else np.asarray(weights, dtype=np.float32),
        item_categories=None if categories is None else np.asarray(categories),
    )


def test_popularity_halves_an_events_weight_per_half_life():
    model = Popularity(half_life_days=10).fit(interactions([0, 1, 1], [0, 10, 20], weights=[1, 1, 3]))
    assert model.scores_.tolist() == pytest.approx([1.0, 0.5 + 3 * 0.25, 0.0])
    assert model.top_keys(3) == [20, 10]  # never-seen items are not recommended
    without_decay = Popularity(half_life_days=0).fit(interactions([0, 1, 1], [0, 10, 20]))
    assert without_decay.scores_.tolist() == [1.0, 2.0, 0.0]


def test_popularity_per_category_and_the_same_scores_for_everyone():
    model = Popularity(half_life_days=0).fit(interactions([0, 1, 1, 2, 2, 2], [0] * 6, categories=[5, 7, 5]))
    assert model.top_keys(2, category=5) == [30, 10]
    assert model.top_keys(3, exclude_keys=[30]) == [20, 10]
    scores = model.score([np.array([0]), np.array([], dtype=np.int64)])
    assert scores.shape == (2, 3) and (scores[0] == scores[1]).all()


def test_popularity_state_round_trip():
    model = Popularity(half_life_days=7).fit(interactions([0, 2], [1, 2], categories=[1, 1, 2]))
    tensors, config = model.to_state()
    again = Popularity.from_state(tensors, config)
    assert again.scores_.tolist() == model.scores_.tolist()
    assert (again.item_keys, again.half_life_days) == ([10, 20, 30], 7.0)
    assert again.top_keys(1, category=2) == [30]


def test_the_beat_schedule_sweeps_every_minute_and_retrains_on_the_cron():
    from config.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["ai.tasks.sweep_stale_runs"] == 60.0
    retrain = schedule["ai.tasks.retrain"]
    assert (retrain.minute, retrain.hour) == ({30}, {2})
