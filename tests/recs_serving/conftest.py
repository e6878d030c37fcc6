from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from ai import registry
from ai.kinds import TrainedModel
from ai.models import Event
from ai.recs import service
from tests.factories import CategoryFactory, ProductFactory


@pytest.fixture(autouse=True)
def fresh_serving(settings, tmp_path):
    """Artifacts in a directory of the test's own; no model, catalogue or popularity cached between tests."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AI_AB_CANDIDATE_SHARE = 0.0
    registry.clear_cache()
    service.reset_caches()
    yield
    registry.clear_cache()
    service.reset_caches()


def add_events(visitor: str, product_ids, *, event_type: str = "view", user=None, start=None, step_minutes: int = 5):
    """Events of one shopper on these products, oldest first, `step_minutes` apart."""
    start = start or timezone.now() - timedelta(hours=1)
    return Event.objects.bulk_create(
        Event(
            event_type=event_type,
            visitor_id=visitor,
            user=user,
            product_id=pid,
            created_at=start + timedelta(minutes=step_minutes * n),
        )
        for n, pid in enumerate(product_ids)
    )


def make_popular(products, *, visitor_prefix: str = "crowd") -> None:
    """Purchases by other shoppers: products[0] most popular, then products[1], … (len - i purchases each)."""
    events = []
    now = timezone.now() - timedelta(days=1)
    for rank, product in enumerate(products):
        for n in range(len(products) - rank):
            events.append(
                Event(event_type="purchase", visitor_id=f"{visitor_prefix}-{n}", product_id=product.pk, created_at=now)
            )
    Event.objects.bulk_create(events)


@pytest.fixture
def categories(db):
    return [CategoryFactory(name="Candles"), CategoryFactory(name="Mugs"), CategoryFactory(name="Bags")]


@pytest.fixture
def products(categories):
    """12 products, 4 per category (round robin: product i is in category i % 3)."""
    return [ProductFactory(category=categories[i % 3], title=f"Item {i:02d}") for i in range(12)]


def register_live(kind: str, algorithm, item_keys, *, promote: bool = True, metrics=None):
    """Store a fitted algorithm as a version of `kind` through the registry (and promote it)."""
    tensors, config = algorithm.to_state()
    if kind == "popularity":
        trained = TrainedModel(tensors=tensors, config=config, metrics=metrics or {"ndcg@10": 0.1})
    else:
        trained = TrainedModel(
            tensors=tensors,
            config={"algorithm": config, "item_keys": [int(k) for k in item_keys], "options": {}},
            metrics=metrics or {"ndcg@10": 0.1},
        )
    version = registry.register_version(kind, trained)
    if promote:
        version = registry.promote(version)
    registry.clear_cache()
    service.reset_caches()
    return version


def as_array(ids) -> np.ndarray:
    return np.asarray(list(ids), dtype=np.int64)
