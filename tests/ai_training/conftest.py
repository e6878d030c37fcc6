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
