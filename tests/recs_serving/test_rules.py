"""Business rules: whatever the models say, what may be shown is decided here."""
from __future__ import annotations

from collections import Counter

import pytest

from ai.recs import service
from ai.recs.service import recommend
from tests.factories import UserFactory

from .conftest import add_events, make_popular


def ids(recs) -> list[int]:
    return [item.id for item in recs.items]


def test_popular_order_and_category_cap_by_default(products):
    make_popular(products)
    recs = recommend(placement="home", visitor_id="someone-new", limit=8)
    # Products 0..11 in popularity order; 3 categories round robin; at most 3 per category (default).
    assert ids(recs) == [p.pk for p in products[:8]]
    assert max(Counter(item.category_id for item in recs.items).values()) <= 3


@pytest.mark.parametrize("cap, expected", [(1, 3), (2, 6), (3, 9), (0, 12)])
def test_at_most_n_per_category(settings, products, cap, expected):
    settings.AI_MAX_PER_CATEGORY = cap  # 0 switches the cap off
    make_popular(products)
    recs = recommend(placement="home", visitor_id="someone-new", limit=50)
    assert len(recs.items) == expected
    assert max(Counter(item.category_id for item in recs.items).values()) == (cap or 4)


@pytest.mark.parametrize(
    "rule",
    ["inactive", "out_of_stock", "viewed_product", "in_basket", "bought_by_visitor", "bought_by_user"],
)
def test_rule_excludes_the_most_popular_product(products, rule):
    make_popular(products)
    top = products[0]
    kwargs = {"placement": "home", "visitor_id": "me", "limit": 8}
    if rule == "inactive":
        top.is_active = False
        top.save()
    elif rule == "out_of_stock":
        top.stock = 0
        top.save()
    elif rule == "viewed_product":
        kwargs.update(placement="product_also_bought", product_id=top.pk)
    elif rule == "in_basket":
        kwargs["basket_product_ids"] = [top.pk, products[1].pk]
    elif rule == "bought_by_visitor":
        add_events("me", [top.pk], event_type="purchase")
    elif rule == "bought_by_user":
        user = UserFactory()
        add_events("me-signed-in", [top.pk], event_type="purchase", user=user)
        kwargs.update(user_id=user.pk, visitor_id=None)
    service.reset_caches()

    recs = recommend(**kwargs)

    assert top.pk not in ids(recs)
    assert len(recs.items) == 8  # the rest still fills the list
    if rule == "in_basket":
        assert products[1].pk not in ids(recs)


@pytest.mark.parametrize("repeat_setting", [["Candles"], ["candles"], "category_id"])
def test_bought_products_come_back_in_repeat_purchase_categories(settings, products, categories, repeat_setting):
    settings.AI_REPEAT_PURCHASE_CATEGORIES = [categories[0].pk] if repeat_setting == "category_id" else repeat_setting
    make_popular(products)
    candle, mug = products[0], products[1]  # categories[0] is Candles, categories[1] Mugs
    add_events("me", [candle.pk, mug.pk], event_type="purchase")

    got = ids(recommend(placement="home", visitor_id="me", limit=8))

    assert candle.pk in got  # candles are bought again and again
    assert mug.pk not in got  # a mug once bought is not recommended again


def test_unavailable_products_are_never_shown_even_when_only_they_are_popular(products):
    make_popular(products[:2])
    for product in products[:2]:
        product.stock = 0
        product.save()
    recs = recommend(placement="home", visitor_id="someone-new")
    assert recs.items == []  # nothing anyone wanted is available: no filler of arbitrary products
