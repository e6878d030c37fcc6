"""Answers without trained models, for unknown shoppers and for products nobody has bought."""
from __future__ import annotations

import uuid

import pytest

from ai import registry
from ai.models import Event
from ai.recs.algorithms.popularity import Popularity
from ai.recs.algorithms.sasrec import SASRec
from ai.recs.data import build_interactions
from ai.recs.service import RecommendationError, recommend
from tests.factories import ProductFactory

from .conftest import add_events, make_popular, register_live


def ids(recs) -> list[int]:
    return [item.id for item in recs.items]


def test_no_trained_model_serves_popular_products_of_the_stored_events(products):
    make_popular(products)
    recs = recommend(placement="home", visitor_id="never-seen-before", limit=4)
    assert ids(recs) == [p.pk for p in products[:4]]
    assert recs.model_version_id is None
    assert recs.title == "Popular right now"
    assert recs.sources == ["popularity"]
    assert uuid.UUID(hex=recs.list_id).hex == recs.list_id  # 32 lower-case hex digits, a UUID
    assert recommend(placement="home", visitor_id="never-seen-before", limit=4).list_id != recs.list_id  # one per list


def test_no_events_at_all_the_popularity_kind_learns_from_the_shops_order_lines(
    products, monkeypatch, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from ai.adapter import OrderLineInfo
    from ai.models import TrainingRun
    from ai.training import start_run
    from shop.ai_adapter import ShopAdapter

    lines = [OrderLineInfo(1, None, products[5].pk, 9, products[5].price, timezone.now()),
             OrderLineInfo(2, None, products[3].pk, 4, products[3].price, timezone.now()),
             OrderLineInfo(3, None, products[7].pk, 50, products[7].price, timezone.now(), cancelled=True)]
    monkeypatch.setattr(ShopAdapter, "iter_order_lines", lambda self, since=None, until=None: iter(lines))
    assert not Event.objects.exists()
    # Serving never reads the order lines: before a popularity model, no events means nothing popular.
    assert ids(recommend(placement="home", visitor_id="x")) == []
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run("popularity", {"half_life_days": 0}, via="test")
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert run.data_summary["source"] == "order lines" and run.data_summary["interactions"] == 2
    registry.clear_cache()  # as the next poll of the registry would
    assert ids(recommend(placement="home", visitor_id="x")) == [products[5].pk, products[3].pk]


def test_empty_shop_answers_an_empty_list(db):
    recs = recommend(placement="home", visitor_id="x")
    assert recs.items == [] and recs.model_version_id is None and not recs


def test_unknown_visitor_gets_the_live_popularity_model_with_its_version(products):
    make_popular(products)
    data = build_interactions()
    version = register_live("popularity", Popularity(half_life_days=0).fit(data), data.item_keys)
    recs = recommend(placement="home", visitor_id="unknown-visitor", limit=3)
    assert ids(recs) == [p.pk for p in products[:3]]
    assert recs.model_version_id == version.pk
    assert recs.title == "Popular right now"


@pytest.fixture
def sasrec_live(products):
    """A tiny SASRec trained on sequences 0 -> 1 -> 2 -> … (each product is followed by the next)."""
    for shopper in range(30):
        start = shopper % 6
        add_events(f"seq-{shopper}", [products[(start + n) % 6].pk for n in range(6)])
    data = build_interactions()
    model = SASRec(epochs=15, hidden=16, layers=1, heads=1, dropout=0.0, lr=0.05, max_len=10, seed=1, device="cpu")
    model.fit(data)
    return register_live("sasrec", model, data.item_keys)


def test_known_visitor_gets_personal_recommendations_from_the_live_sequence_model(settings, products, sasrec_live):
    settings.AI_MAX_PER_CATEGORY = 0
    add_events("me", [products[0].pk, products[1].pk])
    recs = recommend(placement="home", visitor_id="me", limit=3)
    assert recs.model_version_id == sasrec_live.pk
    assert recs.title == "Recommended for you"
    assert recs.sources == ["sasrec"]
    assert ids(recs)[0] == products[2].pk  # what follows 0 -> 1 in every history


def test_unknown_visitor_falls_back_to_popularity_beside_a_live_personal_model(products, sasrec_live):
    recs = recommend(placement="home", visitor_id="a-visitor-with-no-events")
    assert recs.sources == ["popularity"] and recs.title == "Popular right now"
    assert recs.items  # the crowd's views make some products popular


def test_product_with_no_history_gets_popular_products_for_also_bought(products):
    make_popular(products[:6])
    lonely = products[11]
    recs = recommend(placement="product_also_bought", product_id=lonely.pk, visitor_id="v", limit=4)
    assert lonely.pk not in ids(recs)
    assert ids(recs)[:3] == [p.pk for p in products[:3]]


@pytest.mark.parametrize("trained_popularity", [False, True])
def test_product_with_no_history_gets_popular_products_of_its_category_as_similar(products, categories, trained_popularity):
    make_popular(products)
    if trained_popularity:
        data = build_interactions()
        register_live("popularity", Popularity(half_life_days=0).fit(data), data.item_keys)
    new_candle = ProductFactory(category=categories[0], title="New candle")
    recs = recommend(placement="product_similar", product_id=new_candle.pk, visitor_id="v", limit=8)
    assert recs.items and new_candle.pk not in ids(recs)
    assert {item.category_id for item in recs.items} == {categories[0].pk}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"placement": "sidebar"}, "Unknown placement"),
        ({"placement": "product_similar"}, "needs a product"),
        ({"placement": "home", "limit": 0}, "limit must be"),
        ({"placement": "home", "limit": 51}, "limit must be"),
        ({"placement": "home", "limit": "5"}, "limit must be"),
    ],
)
def test_bad_arguments_raise_a_readable_error(db, kwargs, message):
    with pytest.raises(RecommendationError, match=message):
        recommend(**kwargs)


def test_every_list_gets_a_fresh_list_id(products):
    make_popular(products)
    first, second = (recommend(placement="home", visitor_id="v") for _ in range(2))
    assert first.list_id != second.list_id
    assert ids(first) == ids(second)
