from __future__ import annotations

from decimal import Decimal

import pytest

from shop.models import Product
from shop.services.product_facts import product_facts
from tests.factories import CategoryFactory, ProductFactory


@pytest.fixture
def bags(db):
    category = CategoryFactory(name="Bags")
    products = [ProductFactory(category=category, price=Decimal(price)) for price in ("1.00", "2.00", "3.00", "4.00", "5.00", "6.00")]
    ProductFactory(category=category, price=Decimal("0.50"), is_active=False)  # inactive: not counted
    return products


@pytest.mark.parametrize("index, band", [(0, "lower"), (1, "lower"), (2, "middle"), (3, "middle"), (4, "upper"), (5, "upper")])
def test_the_price_band_is_the_third_of_the_category_the_price_falls_in(bags, index, band, django_assert_num_queries):
    with django_assert_num_queries(1):
        facts = product_facts(bags[index])
    assert facts.price_band == band and facts.category_size == 6


def test_the_product_page_shows_what_the_data_knows(bags, client):
    Product.objects.filter(pk=bags[0].pk).update(units_sold=1234)
    page = client.get(bags[0].get_absolute_url()).content.decode()
    assert "<strong>1,234</strong> bought by our shoppers" in page
    assert "Among the lower-priced of 6 in" in page and ">Bags</a>" in page
    assert "New in: not bought yet" in client.get(bags[5].get_absolute_url()).content.decode()
