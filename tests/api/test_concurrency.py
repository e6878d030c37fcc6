"""Concurrent writes on PostgreSQL: stock never goes below zero, an idempotent retry never creates twice."""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from shop.api import serializers as s
from shop.models import ApiKey, Basket, BasketLine, Product, StockAdjustment
from shop.services.api_keys import create_api_key
from shop.services.checkout import ShippingAddress, place_order
from tests.api.conftest import KeyedClient
from tests.factories import CategoryFactory, MerchantFactory, ProductFactory, UserFactory

ADDRESS = ShippingAddress(name="Ada", line1="1 Road", city="Leeds", postcode="LS1 1AA", country="UK")


def run_at_once(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def shop_setup(transactional_db, require_postgres):
    merchant = MerchantFactory()
    product = ProductFactory(merchant=merchant, category=CategoryFactory(), price=Decimal("2.00"), stock=5)
    _, raw = create_api_key(merchant, scope=ApiKey.Scope.WRITE)
    return product, raw


def test_racing_stock_adjustments_never_go_below_zero(shop_setup):
    product, raw = shop_setup
    url = f"/api/v1/products/{product.pk}/stock-adjustments/"

    def take_one(i: int) -> int:
        return KeyedClient(None, raw).post(url, {"delta": -1, "reason": f"pick {i}"}, format="json").status_code

    statuses = run_at_once(12, take_one)
    assert sorted(statuses) == [201] * 5 + [409] * 7
    product.refresh_from_db()
    assert product.stock == 0
    assert sorted(StockAdjustment.objects.filter(product=product).values_list("stock_after", flat=True)) == [0, 1, 2, 3, 4]


def test_racing_idempotent_retries_create_once(shop_setup):
    product, raw = shop_setup
    body = {"sku": "RACE-1", "title": "Race", "price": "1.00"}

    def create(i: int):
        response = KeyedClient(None, raw).post("/api/v1/products/", body, format="json", HTTP_IDEMPOTENCY_KEY="race")
        return response.status_code, response.json()["id"]

    results = run_at_once(6, create)
    assert {status for status, _ in results} == {201}
    assert len({product_id for _, product_id in results}) == 1
    assert Product.objects.filter(sku="RACE-1").count() == 1



def test_patch_interleaved_with_a_checkout_loses_no_sale(shop_setup, monkeypatch):
    """PATCH reads the product, a checkout on another connection sells 2 units and commits, then the PATCH
    saves: the sale must survive (a full-row save wrote the stale stock back: 5 in stock, 2 sold)."""
    product, raw = shop_setup
    user = UserFactory(username="buyer")
    basket = Basket.objects.create(user=user)
    BasketLine.objects.create(basket=basket, product=product, quantity=2)
    read_done, sale_done = threading.Event(), threading.Event()
    original = s.ProductSerializer.validate

    def validate_and_wait(self, attrs):
        read_done.set()
        assert sale_done.wait(timeout=30)
        return original(self, attrs)

    monkeypatch.setattr(s.ProductSerializer, "validate", validate_and_wait)
    outcome: dict = {}

    def patch() -> None:
        try:
            outcome["response"] = KeyedClient(None, raw).patch(
                f"/api/v1/products/{product.pk}/", {"title": "Renamed", "price": "3.00"}, format="json"
            )
        finally:
            connection.close()

    def checkout() -> None:
        try:
            assert read_done.wait(timeout=30)
            outcome["order"] = place_order(
                basket=basket, user=user, email=user.email, address=ADDRESS, shipping_method="standard",
                payment_method="pay_on_delivery",
            )
        finally:
            sale_done.set()
            connection.close()

    threads = [threading.Thread(target=patch), threading.Thread(target=checkout)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcome["response"].status_code == 200, outcome["response"].content
    assert outcome["order"].lines.get().quantity == 2
    product.refresh_from_db()
    assert (product.title, product.price, product.stock, product.units_sold) == ("Renamed", Decimal("3.00"), 3, 2)
