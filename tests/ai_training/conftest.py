from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from ai import registry
from ai.models import Event
from tests.factories import CategoryFactory, ProductFactory


@pytest.fixture(autouse=True)
def artifact_root(settings, tmp_path):
    """Artifacts of each test in its own directory; no model cached between tests."""
    settings.MEDIA_ROOT = tmp_path / "media"
    registry.clear_cache()
    yield settings.MEDIA_ROOT
    registry.clear_cache()


def make_events(products, *, shoppers: int = 40, per_shopper: int = 6, seed: int = 0, days: int = 30) -> list[Event]:
    """Events with a clear popularity skew: low product index = popular (Zipf-like), over `days` days."""
    rng = random.Random(seed)
    now = timezone.now()
    weights = [1.0 / (rank + 1) for rank in range(len(products))]
    events = []
    for shopper in range(shoppers):
        start = now - timedelta(days=rng.uniform(1, days))
        for n in range(per_shopper):
            product = rng.choices(products, weights=weights)[0]
            event_type = rng.choice(["view", "view", "add_to_cart", "purchase"])
            events.append(
                Event(
                    event_type=event_type,
                    visitor_id=f"visitor-{shopper}",
                    product_id=product.pk,
                    created_at=start + timedelta(minutes=10 * n),
                )
            )
    return Event.objects.bulk_create(events)


@pytest.fixture
def catalogue(db):
    categories = [CategoryFactory(), CategoryFactory()]
    return [ProductFactory(category=categories[i % 2]) for i in range(12)]


@pytest.fixture
def shop_events(catalogue):
    return make_events(catalogue)


def trained_popularity(scores, *, metrics=None):
    """A TrainedModel of a Popularity model with these item scores (item keys 101, 102, …)."""
    import numpy as np

    from ai.kinds.base import TrainedModel
    from ai.recs.algorithms.popularity import Popularity

    model = Popularity(half_life_days=0)
    model.scores_ = np.asarray(scores, dtype=np.float32)
    model.item_categories = np.full(len(scores), -1, dtype=np.int64)
    model.item_keys = [101 + i for i in range(len(scores))]
    tensors, config = model.to_state()
    return TrainedModel(tensors=tensors, config=config, metrics=dict(metrics or {}))


@pytest.fixture
def make_version(db):
    """make_version(ndcg=0.1, scores=(3, 2, 1), status=None) -> a registered popularity ModelVersion."""
    from ai.models import ModelVersion

    def make(ndcg: float | None = 0.1, *, scores=(3.0, 2.0, 1.0), status: str | None = None):
        metrics = {} if ndcg is None else {"ndcg@10": ndcg}
        version = registry.register_version("popularity", trained_popularity(scores, metrics=metrics))
        if status == ModelVersion.Status.LIVE:
            version = registry.promote(version)
        return version

    return make


@pytest.fixture
def test_kind():
    """Register a kind class for one test (removed afterwards)."""
    from ai.kinds import base

    added = []

    def register(kind_cls):
        base.register(kind_cls)
        added.append(kind_cls.name)
        return kind_cls

    yield register
    for name in added:
        base._REGISTRY.pop(name, None)
