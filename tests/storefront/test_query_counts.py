"""Each storefront page runs the same number of SQL queries however many products, lines or orders it shows."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop.models import Product
from tests.factories import CategoryFactory, ProductFactory, UserFactory

from .conftest import make_order

# Generous but fixed: a page that started querying per product would pass it at once.
MAX_QUERIES = 20


def queries_for(client, url: str, params: dict | None = None) -> int:
    """Queries of a warmed page: the first request fills the recommender's in-process caches, the second is measured."""
    client.get(url, params or {})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def products_in(category, merchant, n: int, word: str = "lamp") -> list[Product]:
    products = ProductFactory.create_batch(n, merchant=merchant, category=category, title=factory_title(word))
    Product.objects.filter(pk__in=[p.pk for p in products]).update(units_sold=7)
    return products


def factory_title(word: str):
    import factory

    return factory.Sequence(lambda n: f"{word.title()} {n}")


@pytest.fixture(autouse=True)
def _long_lived_caches(settings, monkeypatch):
    """The recommender's caches expire by time: long enough here that a slow, busy machine cannot
    cross an expiry between the warm-up request and the measured one and change the counts."""
    from ai.recs import rules

    settings.AI_REGISTRY_POLL_S = 600
    monkeypatch.setattr(rules, "CATALOGUE_TTL_S", 600)


@pytest.fixture
def warm_client(client, db):
    """A client that already has its visitor cookie and session, like any shopper after the first page."""
    client.get(reverse("shop:home"))
    return client


def test_home(warm_client, merchant):
    root = CategoryFactory(name="Root")
    products_in(root, merchant, 5)
    small = queries_for(warm_client, reverse("shop:home"))
    products_in(root, merchant, 25)
    for i in range(8):
        CategoryFactory(name=f"Extra {i}")
    large = queries_for(warm_client, reverse("shop:home"))

    assert small == large <= MAX_QUERIES


@pytest.mark.parametrize("params", [{}, {"sort": "price", "in_stock": "1"}, {"sort": "newest", "page": "2"}])
def test_category(warm_client, merchant, params):
    small_cat = CategoryFactory(name="Small")
    large_parent = CategoryFactory(name="Large")
    large_child = CategoryFactory(name="Large child", parent=large_parent)
    products_in(small_cat, merchant, 5)
    products_in(large_parent, merchant, 10)
    products_in(large_child, merchant, 40)  # two full pages

    small = queries_for(warm_client, small_cat.get_absolute_url(), params)
    large = queries_for(warm_client, large_parent.get_absolute_url(), params)

    assert small == large <= MAX_QUERIES


def test_product(warm_client, merchant):
    top = CategoryFactory(name="Top")
    few = products_in(CategoryFactory(name="Few", parent=top), merchant, 5)
    many = products_in(CategoryFactory(name="Many", parent=top), merchant, 30)

    small = queries_for(warm_client, few[0].get_absolute_url())
    large = queries_for(warm_client, many[0].get_absolute_url())

    assert small == large <= MAX_QUERIES


def test_product_with_recommendation_blocks_showing(warm_client, merchant):
    """With stored behaviour the recommendation blocks fill up, and still the count does not grow."""
    from django.utils import timezone

    from ai.models import Event

    top = CategoryFactory(name="Top")
    few = products_in(CategoryFactory(name="Few", parent=top), merchant, 5)
    many = products_in(CategoryFactory(name="Many", parent=top), merchant, 30)
    now = timezone.now()
    Event.objects.bulk_create(
        Event(event_type="purchase", visitor_id=f"{i:032x}", product_id=p.pk, created_at=now)
        for i, p in enumerate(few + many)
    )
    from ai.recs import service

    service.reset_caches()  # the catalogue changed after the warm-up request

    small = queries_for(warm_client, few[0].get_absolute_url())
    large = queries_for(warm_client, many[0].get_absolute_url())
    html = warm_client.get(many[0].get_absolute_url()).content.decode()

    assert "data-rec-list" in html
    assert small == large <= MAX_QUERIES


def test_search(warm_client, merchant):
    category = CategoryFactory(name="Lighting")
    products_in(category, merchant, 5, word="lantern")
    products_in(category, merchant, 30, word="candle")

    small = queries_for(warm_client, reverse("shop:search"), {"q": "lantern"})
    large = queries_for(warm_client, reverse("shop:search"), {"q": "candle"})

    assert small == large <= MAX_QUERIES


def _basket_with(client, products) -> None:
    for p in products:
        client.post(reverse("shop:basket_add"), {"product_id": p.pk, "quantity": 1})
    client.get(reverse("shop:basket"))  # consume the flash messages


@pytest.mark.parametrize("url_name", ["shop:basket", "shop:checkout"])
def test_basket_and_checkout(client, db, merchant, url_name):
    products = products_in(CategoryFactory(name="Gifts"), merchant, 5)
    other = client.__class__()
    _basket_with(client, products[:1])
    _basket_with(other, products)

    small = queries_for(client, reverse(url_name))
    large = queries_for(other, reverse(url_name))

    assert small == large <= MAX_QUERIES


def test_order_history_and_detail(client, db, merchant):
    products = products_in(CategoryFactory(name="Gifts"), merchant, 5)
    one, five = UserFactory(username="one"), UserFactory(username="five")
    make_order(one, products[:1], number="ONE-1")
    for i in range(5):
        make_order(five, products, number=f"FIVE-{i}")
    other = client.__class__()
    client.force_login(one)
    other.force_login(five)
    client.get(reverse("shop:home"))
    other.get(reverse("shop:home"))

    assert queries_for(client, reverse("shop:account")) == queries_for(other, reverse("shop:account")) <= MAX_QUERIES
    small = queries_for(client, reverse("shop:order_detail", kwargs={"number": "ONE-1"}))
    large = queries_for(other, reverse("shop:order_detail", kwargs={"number": "FIVE-0"}))
    assert small == large <= MAX_QUERIES
