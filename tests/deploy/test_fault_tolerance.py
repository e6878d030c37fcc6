"""A recommender fault never breaks a page, and Redis down never breaks the storefront or the API.

Each dependency of `{% recommendations %}` is made to raise in turn (the adapter, the database behind the
shopper's history, the model registry, the catalogue): the page still answers 200, without the block, and
the error is logged (with DEBUG on it shows instead). Then the cache points at a closed port, as when Redis
stops: pages, the API (throttled through the cache) and the beacon (rate-limited through it) keep answering,
falling back to the process's memory, with one warning logged.
"""
from __future__ import annotations

import logging
import socket

import pytest
from django.db import DatabaseError
from django.template import Context, Template

from ai.models import Event
from ai.recs import service
from config.cache import caches_for
from shop.ai_adapter import ShopAdapter
from tests.api.conftest import keyed_client
from tests.factories import CategoryFactory, MerchantFactory, ProductFactory
from tests.recs_serving.conftest import make_popular
from tests.recs_serving.test_template_tag import make_request

pytestmark = pytest.mark.django_db


def fail(*args, **kwargs):
    raise RuntimeError("injected fault")


def database_down(*args, **kwargs):
    raise DatabaseError("connection to server lost")


FAULTS = {
    "adapter": (ShopAdapter, "basket_product_ids", fail),
    "adapter products": (ShopAdapter, "get_products", fail),
    "database": (service, "recent_history", database_down),
    "registry": (service, "source", fail),
    "catalogue": (service.rules, "available_catalogue", fail),
}


@pytest.fixture(autouse=True)
def fresh_serving(settings, tmp_path):
    """No catalogue, popularity or model cached from another test."""
    from ai import registry

    settings.MEDIA_ROOT = tmp_path / "media"
    registry.clear_cache()
    service.reset_caches()
    yield
    registry.clear_cache()
    service.reset_caches()


@pytest.fixture
def popular_shop(db):
    merchant, category = MerchantFactory(), CategoryFactory(slug="home")
    products = [ProductFactory(merchant=merchant, category=category, title=f"Item {n:02d}") for n in range(8)]
    make_popular(products)
    return products


PAGE = '<main>{% load ai_recs %}{% recommendations "home" limit=4 %}</main>'


def render_page() -> str:
    return Template(PAGE).render(Context({"request": make_request()}))


def test_the_block_shows_when_nothing_fails(popular_shop):
    assert "data-rec-list" in render_page()


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_dependency_leaves_the_page_without_the_block(client, popular_shop, monkeypatch, caplog, fault):
    owner, name, replacement = FAULTS[fault]
    monkeypatch.setattr(owner, name, replacement)
    with caplog.at_level(logging.ERROR, logger="ai.templatetags.ai_recs"):
        assert "".join(render_page().split()) == "<main></main>"
        response = client.get("/")  # and the storefront's own page still answers
    assert response.status_code == 200
    logged = [r for r in caplog.records if r.name == "ai.templatetags.ai_recs"]
    assert len(logged) >= 1 and logged[0].exc_info is not None
    assert "failed; the page is shown without it" in logged[0].getMessage()


def test_with_debug_on_the_fault_shows(client, popular_shop, monkeypatch, settings):
    settings.DEBUG = True
    monkeypatch.setattr(service, "source", fail)
    with pytest.raises(RuntimeError, match="injected fault"):
        render_page()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    settings.CACHES = caches_for(f"redis://127.0.0.1:{closed_port()}/0")


def test_with_redis_down_the_storefront_and_the_api_keep_answering(client, popular_shop, redis_down, caplog):
    product = popular_shop[0]
    api = keyed_client(product.merchant)
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        assert client.get("/").status_code == 200
        assert client.get(product.get_absolute_url()).status_code == 200
        assert client.post("/basket/add/", {"product": product.pk, "quantity": 1}).status_code == 302
        assert client.get("/basket/").status_code == 200
        assert api.get("/api/v1/products/").status_code == 200
        click = {"type": "rec_click", "placement": "product_detail", "list_id": "L1", "product_id": product.pk, "position": 1}
        beacon = client.post("/ai/beacon/", {"events": [click]}, content_type="application/json", HTTP_ORIGIN="http://testserver")
        # stored: the throttle's cache is down, which is not the visitor's fault
        assert beacon.status_code == 204, beacon.content
        assert list(Event.objects.filter(event_type="rec_click").values_list("product_id", "placement")) == [
            (product.pk, "product_detail")
        ]
    warnings = [r.getMessage() for r in caplog.records if r.name == "config.cache"]
    assert len(warnings) == 1 and warnings[0].startswith("Redis cache unreachable")


def test_with_redis_down_throttling_still_counts_per_process(popular_shop, redis_down, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api_key": "3/min"}}
    api = keyed_client(popular_shop[0].merchant)
    statuses = [api.get("/api/v1/products/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_redis_is_tried_again_after_the_outage(settings, monkeypatch):
    from django.core.cache import caches

    from config import cache as fail_open

    settings.CACHES = caches_for(f"redis://127.0.0.1:{closed_port()}/0")
    backend = caches["default"]
    backend.set("k", 1)
    assert backend.get("k") == 1  # from the fallback
    assert backend._down_until > 0
    monkeypatch.setattr(fail_open.time, "monotonic", lambda: backend._down_until + 1)
    assert backend.get("k") == 1  # retried Redis (still down), fallback again
