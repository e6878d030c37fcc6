"""Fixtures of the API tests: two merchants with keys of each scope, and an API client helper."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shop.models import ApiKey, Order, OrderLine, OrderStatus, Product
from shop.services.api_keys import create_api_key
from tests.factories import CategoryFactory, MerchantFactory, ProductFactory


class KeyedClient(APIClient):
    """An APIClient that sends `Authorization: Bearer <key>` and remembers its key."""

    def __init__(self, api_key: ApiKey | None = None, raw_key: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.api_key = api_key
        self.raw_key = raw_key
        if raw_key:
            self.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")


def keyed_client(merchant, scope: str = ApiKey.Scope.WRITE) -> KeyedClient:
    api_key, raw = create_api_key(merchant, scope=scope, name=f"test {scope}")
    return KeyedClient(api_key, raw)


@pytest.fixture
def merchant(db):
    return MerchantFactory(slug="acme", name="Acme")


@pytest.fixture
def other_merchant(db):
    return MerchantFactory(slug="rival", name="Rival")


@pytest.fixture
def category(db):
    return CategoryFactory(slug="home", name="Home")


@pytest.fixture
def client_w(merchant) -> KeyedClient:
    return keyed_client(merchant, ApiKey.Scope.WRITE)


@pytest.fixture
def client_r(merchant) -> KeyedClient:
    return keyed_client(merchant, ApiKey.Scope.READ)


@pytest.fixture
def foreign_client(other_merchant) -> KeyedClient:
    return keyed_client(other_merchant, ApiKey.Scope.AI)


@pytest.fixture
def product(merchant, category) -> Product:
    return ProductFactory(merchant=merchant, category=category, sku="ACME-1", title="Lantern", price=Decimal("12.50"),
                          stock=5)


def make_order(lines: list[tuple[Product, int]], status: str = OrderStatus.PENDING, number: str = "A0001") -> Order:
    subtotal = sum(p.price * q for p, q in lines)
    order = Order.objects.create(
        number=number, email="buyer@example.com", status=status, subtotal=subtotal, total=subtotal,
        shipping_name="Ada Buyer", shipping_line1="1 High Street", shipping_city="York", shipping_postcode="YO1 1AA",
        shipping_country="GB", shipping_method="standard", placed_at=timezone.now(),
    )
    for p, q in lines:
        OrderLine.objects.create(order=order, product=p, merchant=p.merchant, sku=p.sku, title=p.title,
                                 unit_price=p.price, quantity=q, line_total=p.price * q)
    return order


@pytest.fixture
def settings_override(settings):
    # Thousands of requests from one key: lift the throttle for this run only.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "1000000/min"}}
