"""{% recommendations %}: what it renders, and a constant number of queries whatever the list length."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from ai import registry
from ai.recs import rules, service
from tests.factories import ProductFactory, UserFactory

from .conftest import add_events, make_popular


def make_request(user=None, visitor_id="0123456789abcdef0123456789abcdef"):
    request = RequestFactory().get("/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = user or AnonymousUser()
    request.visitor_id = visitor_id
    request.ai_tracking = True
    return request


def render(source: str, request, **context) -> str:
    return Template("{% load ai_recs %}" + source).render(Context({"request": request, **context}))


def test_renders_the_block_with_the_beacons_data_attributes(products):
    make_popular(products)
    html = render('{% recommendations "home" limit=4 %}', make_request())
    assert html.count("data-rec-list") == 1
    assert 'data-placement="home"' in html
    assert 'data-model-version=""' in html  # no trained model yet
    assert re.search(r'data-list-id="[0-9a-f]{32}"', html)
    assert "Popular right now" in html
    rendered = [int(pid) for pid in re.findall(r'data-rec-item data-product-id="(\d+)"', html)]
    assert rendered == [p.pk for p in products[:4]]
    assert f'href="{products[0].get_absolute_url()}"' in html
    assert html.count("ai/beacon.js") == 1


def test_beacon_script_once_per_page_whatever_the_number_of_blocks(products):
    make_popular(products)
    request = make_request()
    html = render('{% recommendations "home" %}{% recommendations "product_similar" %}', request, product=products[0])
    assert html.count("data-rec-list") == 2
    assert html.count("ai/beacon.js") == 1


def test_product_placements_take_the_product_from_the_page(products):
    make_popular(products)
    html = render('{% recommendations "product_also_bought" %}', make_request(), product=products[0])
    assert "Customers also bought" in html
    assert f'data-product-id="{products[0].pk}"' not in html
    assert f'data-product-id="{products[1].pk}"' in html


def test_renders_nothing_when_the_list_is_empty(db):
    assert render('{% recommendations "home" %}', make_request()).strip() == ""


@pytest.mark.parametrize(
    "tag, message",
    [
        ('{% recommendations "sidebar" %}', "Unknown placement"),
        ('{% recommendations "home" limit="many" %}', "limit must be"),
        ('{% recommendations "home" limit=0 %}', "limit must be"),
        ('{% recommendations "product_similar" %}', "needs a product"),
    ],
)
def test_bad_calls_render_nothing_in_production_and_raise_in_debug(settings, products, tag, message):
    make_popular(products)
    assert render(tag, make_request()).strip() == ""
    settings.DEBUG = True
    with pytest.raises(Exception, match=message):
        render(tag, make_request())


def test_limit_may_be_a_string(products):
    make_popular(products)
    assert render('{% recommendations "home" limit="3" %}', make_request()).count("data-rec-item") == 3


def count_queries(source: str, request, **context) -> tuple[int, str]:
    registry.clear_cache()  # the worst case: every cache cold (catalogue, registry, popularity)
    service.reset_caches()
    with CaptureQueriesContext(connection) as queries:
        html = render(source, request, **context)
    return len(queries), html


@pytest.mark.parametrize("signed_in", [False, True])
def test_query_count_is_constant_whatever_the_number_of_items(settings, monkeypatch, categories, signed_in):
    # Caches expire by time: long enough here that a slow, busy machine cannot change the counts.
    settings.AI_REGISTRY_POLL_S = 600
    monkeypatch.setattr(rules, "CATALOGUE_TTL_S", 600)
    few = [ProductFactory(category=categories[i % 3]) for i in range(4)]
    make_popular(few)
    user = UserFactory() if signed_in else None
    request = make_request(user=user)
    if user:
        add_events("anything", [few[0].pk], user=user)
    small, html_small = count_queries('{% recommendations "home" limit=2 %}', request)

    many = [ProductFactory(category=categories[i % 3]) for i in range(40)]
    make_popular(many, visitor_prefix="more")
    request = make_request(user=user)  # another page: the shopper is read again
    large, html_large = count_queries('{% recommendations "home" limit=30 %}', request)

    assert html_small.count("data-rec-item") == 2
    assert html_large.count("data-rec-item") == 9  # 3 categories x AI_MAX_PER_CATEGORY (3)
    assert small == large
    assert large <= 12  # cold: catalogue, registry (3 kinds), popularity (3), history, bought, basket, products

    # Warm (the usual case within a few seconds): the shopper's history, the basket, the products.
    with CaptureQueriesContext(connection) as warm:
        render('{% recommendations "home" limit=30 %}', make_request(user=user))
    assert len(warm) <= 4


def warm_shop(settings, monkeypatch, categories, n_products: int, signed_in: bool, block: str):
    """A shop of `n_products` popular products in three categories and a shopper (signed in or not) with one
    event, with `block` rendered once so that the shared caches are warm and stay warm: (products, user)."""
    settings.AI_REGISTRY_POLL_S = 600
    monkeypatch.setattr(rules, "CATALOGUE_TTL_S", 600)
    products = [ProductFactory(category=categories[i % 3]) for i in range(n_products)]
    make_popular(products)
    user = UserFactory() if signed_in else None
    add_events("anything", [products[0].pk], user=user)
    render(block, make_request(user=user))
    return products, user


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_blocks_of_one_page_read_the_shopper_once(settings, monkeypatch, categories, signed_in):
    """Every block of a page serves the same shopper: their history, purchases and basket are read once per
    page, not once per block."""
    one_block = '{% recommendations "home" limit=2 %}'
    _, user = warm_shop(settings, monkeypatch, categories, 12, signed_in, one_block)

    with CaptureQueriesContext(connection) as single:
        render(one_block, make_request(user=user))
    with CaptureQueriesContext(connection) as double:
        html = render(one_block + one_block, make_request(user=user))

    def history_reads(queries) -> int:
        return sum('FROM "ai_event"' in q["sql"] and "ORDER BY" in q["sql"] for q in queries.captured_queries)

    assert history_reads(single) == history_reads(double) == 1
    assert html.count("data-rec-list") == 2
    # The second block costs only its own products' query, never the shopper's (or their basket) again.
    assert len(double) == len(single) + 1


@pytest.mark.parametrize("signed_in", [False, True])
def test_what_the_page_already_shows_is_left_out_without_a_query(settings, monkeypatch, categories, signed_in):
    """The per-page context is kept in memory on the request: a block on a page that already shows 40
    products runs exactly the queries of the same block on an empty page, and shows none of those 40."""
    from ai.recs.page import mark_shown

    settings.AI_MAX_PER_CATEGORY = 0
    block = '{% recommendations "home" limit=4 %}'
    products, user = warm_shop(settings, monkeypatch, categories, 60, signed_in, block)

    with CaptureQueriesContext(connection) as empty_page:
        html_empty = render(block, make_request(user=user))
    busy = make_request(user=user)
    shown_elsewhere = {p.pk for p in products[:40]}
    mark_shown(busy, shown_elsewhere)
    with CaptureQueriesContext(connection) as busy_page:
        html_busy = render(block, busy)

    ids_empty = [int(pid) for pid in re.findall(r'data-rec-item data-product-id="(\d+)"', html_empty)]
    ids_busy = [int(pid) for pid in re.findall(r'data-rec-item data-product-id="(\d+)"', html_busy)]
    assert len(ids_empty) == len(ids_busy) == 4
    assert set(ids_empty) <= shown_elsewhere  # the most popular products: the page context changes the list
    assert not set(ids_busy) & shown_elsewhere
    assert len(busy_page) == len(empty_page)
    assert [q["sql"] for q in busy_page.captured_queries if "shop_product" not in q["sql"]] == [
        q["sql"] for q in empty_page.captured_queries if "shop_product" not in q["sql"]
    ]
