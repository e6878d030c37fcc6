"""Fixtures for the storefront tests: a small catalogue and helpers to place orders."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from shop.models import Basket, BasketLine, Order, OrderLine
from tests.factories import CategoryFactory, MerchantFactory, ProductFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Sign-up and sign-in tests hash passwords; the production hasher's work factor only slows them down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_recommender_caches():
    """The recommender caches the catalogue and popularity in-process; every test starts without them."""
    from ai.recs import service

    service.reset_caches()
    yield
    service.reset_caches()


@pytest.fixture
def merchant(db):
    return MerchantFactory(name="Aisle Home")


@pytest.fixture
def tree(db):
    """home → home/candles → home/candles/tealights, and a separate root "kitchen"."""
    home = CategoryFactory(name="Home", slug="home")
    candles = CategoryFactory(name="Candles", slug="candles", parent=home)
    tealights = CategoryFactory(name="Tealights", slug="tealights", parent=candles)
    kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
    return {"home": home, "candles": candles, "tealights": tealights, "kitchen": kitchen}


@pytest.fixture
def product(merchant, tree):
    return ProductFactory(
        merchant=merchant, category=tree["candles"], title="Glass Star Candle Holder", slug="glass-star-candle-holder",
        description="A frosted glass holder for tealights.", price=Decimal("4.25"), stock=10,
    )


@pytest.fixture
def user(db):
    return UserFactory(username="alice", email="alice@example.com")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def make_order(user, products, *, number: str, status: str = "pending") -> Order:
    from django.utils import timezone

    subtotal = sum((p.price for p in products), Decimal("0"))
    order = Order.objects.create(
        number=number, user=user, email=getattr(user, "email", ""), status=status, subtotal=subtotal,
        shipping_cost=Decimal("3.95"), total=subtotal + Decimal("3.95"), shipping_method="standard",
        payment_method="pay_on_delivery", shipping_name="Alice", shipping_line1="1 High St", shipping_city="Bath",
        shipping_postcode="BA1 1AA", shipping_country="United Kingdom", placed_at=timezone.now(),
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, product=p, merchant=p.merchant, sku=p.sku, title=p.title, unit_price=p.price,
                  quantity=1, line_total=p.price)
        for p in products
    )
    return order


def basket_of(user=None, session_basket_id=None) -> list[tuple[int, int]]:
    if user is not None:
        basket = Basket.objects.filter(user=user).first()
    else:
        basket = Basket.objects.filter(pk=session_basket_id).first()
    if basket is None:
        return []
    return list(BasketLine.objects.filter(basket=basket).order_by("product_id").values_list("product_id", "quantity"))
