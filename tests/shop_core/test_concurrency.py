"""Many shoppers try to buy the last units at the same moment: the stock locks must not oversell."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from shop.exceptions import InsufficientStock
from shop.models import Basket, BasketLine, Order, OrderLine, Product
from shop.services.checkout import ShippingAddress, place_order
from tests.factories import ProductFactory, UserFactory

SHOPPERS = 24
STOCK = 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_last_units_are_sold_exactly_once(require_postgres):
    product = ProductFactory(stock=STOCK)
    # A second product in every basket, locked after the first: the fixed lock order must not deadlock.
    other = ProductFactory(stock=1000)
    baskets = []
    for i in range(SHOPPERS):
        user = UserFactory(username=f"racer{i}", password=None)
        basket = Basket.objects.create(user=user)
        BasketLine.objects.create(basket=basket, product=product, quantity=1)
        BasketLine.objects.create(basket=basket, product=other, quantity=1)
        baskets.append((basket, user))
    address = ShippingAddress(name="Racer", line1="1 Track", city="Silverstone", postcode="NN12 8TN", country="UK")
    barrier = threading.Barrier(SHOPPERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def shop(basket, user):
        try:
            barrier.wait(timeout=30)
            place_order(
                basket=basket, user=user, email=user.email, address=address,
                shipping_method="standard", payment_method="pay_on_delivery",
            )
            outcome = "ordered"
        except InsufficientStock:
            outcome = "insufficient"
        except Exception as error:  # noqa: BLE001 - any other error is a failure of the test
            outcome = f"error: {error!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=shop, args=pair) for pair in baskets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(set(outcomes)) == ["insufficient", "ordered"], outcomes
    assert outcomes.count("ordered") == STOCK
    assert outcomes.count("insufficient") == SHOPPERS - STOCK
    product.refresh_from_db()
    other.refresh_from_db()
    assert (product.stock, product.units_sold) == (0, STOCK)
    assert (other.stock, other.units_sold) == (1000 - STOCK, STOCK)
    assert Order.objects.count() == STOCK
    assert OrderLine.objects.filter(product=product).count() == STOCK
    assert not Product.objects.filter(stock__lt=0).exists()
    # The losers keep their baskets; the winners' baskets are empty.
    assert BasketLine.objects.filter(product=product).count() == SHOPPERS - STOCK
