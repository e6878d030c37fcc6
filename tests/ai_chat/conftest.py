"""Fixtures for the support chat: a small catalogue, a customer with orders, a guest's order."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ai.chat import entities
from shop.models import Order, OrderLine, OrderStatus
from tests.factories import CategoryFactory, ProductFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_vocabulary():
    entities.vocabulary.clear()
    yield
    entities.vocabulary.clear()


@pytest.fixture
def catalogue(db):
    lights = CategoryFactory(name="Lights", slug="lights")
    return {
        "lantern": ProductFactory(title="Moroccan Metal Lantern", category=lights, price=Decimal("8.50"), stock=5),
        "big_lantern": ProductFactory(title="Large Glass Lantern", category=lights, price=Decimal("24.00"), stock=3),
        "sold_out": ProductFactory(title="Paper Lantern Garland", category=lights, price=Decimal("4.00"), stock=0),
        "mug": ProductFactory(title="Polka Dot Mug", category=CategoryFactory(name="Kitchen"), price=Decimal("3.25"), stock=40),
    }


def make_order(number: str, lines, *, user=None, email: str = "", status: str = OrderStatus.PENDING, days_ago: int = 0) -> Order:
    subtotal = sum(product.price * quantity for product, quantity in lines)
    order = Order.objects.create(
        number=number, user=user, email=email or (user.email if user else ""), status=status, subtotal=subtotal,
        total=subtotal, shipping_name="Ada Lovelace", shipping_line1="1 High Street", shipping_city="York",
        shipping_postcode="YO1 1AA", shipping_country="United Kingdom", shipping_method="standard",
        placed_at=timezone.now() - timedelta(days=days_ago),
    )
    for product, quantity in lines:
        OrderLine.objects.create(order=order, product=product, merchant=product.merchant, sku=product.sku,
                                 title=product.title, unit_price=product.price, quantity=quantity,
                                 line_total=product.price * quantity)
    return order


@pytest.fixture
def customer(db):
    return UserFactory(username="ada", email="ada@example.com")


@pytest.fixture
def stranger(db):
    return UserFactory(username="mallory", email="mallory@example.com")


@pytest.fixture
def orders(customer, catalogue):
    """The customer's two orders (older delivered, newer pending) and a guest's order placed by someone else."""
    return {
        "old": make_order("AI-261101-AAAAAA", [(catalogue["mug"], 2)], user=customer, status=OrderStatus.DELIVERED, days_ago=20),
        "pending": make_order("AI-261130-BBBBBB", [(catalogue["lantern"], 2)], user=customer, days_ago=1),
        "guest": make_order("AI-261129-CCCCCC", [(catalogue["big_lantern"], 1)], email="guest@example.com", days_ago=2),
    }
