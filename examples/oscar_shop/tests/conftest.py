"""Fixtures of the example shop's tests: a small Oscar catalogue and order history made with Oscar's
own test factories."""
from __future__ import annotations

import random
from decimal import Decimal

import pytest
from oscar.apps.catalogue.categories import create_from_breadcrumbs
from oscar.core.loading import get_class, get_model
from oscar.test import factories

from ai import registry

Basket = get_model("basket", "Basket")
ProductCategory = get_model("catalogue", "ProductCategory")
Selector = get_class("partner.strategy", "Selector")

CATEGORIES = ("Kitchen", "Garden", "Books")
# (title, price, categories by index): products 0-1, 2-3, 4-5 are bought together; 7 is a book about gardens.
PRODUCTS = [
    ("Espresso pot", "24.00", [0]),
    ("Coffee beans 1kg", "18.50", [0]),
    ("Watering can", "12.00", [1]),
    ("Seed tin", "6.40", [1]),
    ("Cook book", "15.00", [0, 2]),
    ("Apron", "11.00", [0]),
    ("Garden gloves", "8.00", [1]),
    ("The gardener's year", "20.00", [1, 2]),
]


@pytest.fixture(autouse=True)
def artifact_root(settings, tmp_path):
    """Each test's model artifacts in its own folder; no model cached between tests."""
    settings.MEDIA_ROOT = tmp_path / "media"
    registry.clear_cache()
    yield settings.MEDIA_ROOT
    registry.clear_cache()


@pytest.fixture
def catalogue(db):
    """The products, each in its categories with a stock record of 50 at its price."""
    categories = [create_from_breadcrumbs(name) for name in CATEGORIES]
    products = []
    for title, price, category_indexes in PRODUCTS:
        product = factories.create_product(title=title, price=Decimal(price), num_in_stock=50)
        for index in category_indexes:
            ProductCategory.objects.create(product=product, category=categories[index])
        products.append(product)
    return products


def place_order(user, products):
    """An order through Oscar's OrderCreator (which sends `order_placed`), as checkout would place it."""
    basket = Basket.objects.create(owner=user)
    basket.strategy = Selector().strategy(user=user)
    for product in products:
        basket.add_product(product)
    return factories.create_order(basket=basket, user=user)


@pytest.fixture
def order_for(db):
    """order_for(user, products) -> an Oscar order, placed as checkout places it."""
    return place_order


@pytest.fixture
def customers(db):
    return [factories.UserFactory(email=f"customer{n}@example.com", username=f"customer{n}") for n in range(12)]


@pytest.fixture
def order_history(catalogue, customers):
    """Two orders per customer: one of the pairs (0-1, 2-3, 4-5), mostly the first pair, and a single
    item (fixed by the seed)."""
    rng = random.Random(7)
    orders = []
    for index, customer in enumerate(customers):
        pair = 0 if index < 6 else (2 if index < 10 else 4)
        orders.append(place_order(customer, [catalogue[pair], catalogue[pair + 1]]))
        orders.append(place_order(customer, [catalogue[rng.choice((0, 2, 5, 6, 7))]]))
    return orders


@pytest.fixture
def staff(db):
    return factories.UserFactory(username="staff", email="staff@example.com", is_staff=True, is_superuser=True)
