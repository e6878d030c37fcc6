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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_slow_payment_does_not_block_other_checkouts_of_the_same_product(require_postgres, monkeypatch):
    """The provider answers after the commit: while one shopper's payment hangs, another buys the same product."""
    from shop.payments import PROVIDERS, PaymentProvider, PaymentResult

    entered, release = threading.Event(), threading.Event()

    class SlowProvider(PaymentProvider):
        code, name = "slow", "A slow card gateway"

        def authorise(self, order) -> PaymentResult:
            entered.set()
            release.wait(timeout=60)  # "sleeps" until the test has seen the other checkout finish
            return PaymentResult(success=True, captured=True, reference="slow-1")

    monkeypatch.setitem(PROVIDERS, "slow", SlowProvider())
    product = ProductFactory(stock=5)
    address = ShippingAddress(name="Ada", line1="1 Road", city="Leeds", postcode="LS1 1AA", country="UK")
    outcomes: dict[str, object] = {}

    def buy(name: str, payment_method: str) -> None:
        user = UserFactory(username=name, password=None)
        basket = Basket.objects.create(user=user)
        BasketLine.objects.create(basket=basket, product=product, quantity=2)
        try:
            outcomes[name] = place_order(basket=basket, user=user, email=user.email, address=address,
                                         shipping_method="standard", payment_method=payment_method)
        except Exception as error:  # noqa: BLE001 - reported by the assertions below
            outcomes[name] = error
        finally:
            connection.close()

    slow = threading.Thread(target=buy, args=("slow", "slow"))
    slow.start()
    try:
        assert entered.wait(timeout=30)
        fast = threading.Thread(target=buy, args=("fast", "pay_on_delivery"))
        fast.start()
        fast.join(timeout=20)
        blocked = fast.is_alive()  # with the provider inside the lock, this checkout waits for the slow one
    finally:
        release.set()
        slow.join(timeout=60)
    fast.join(timeout=60)
    assert not blocked, "the second checkout waited for the first one's payment"
    assert isinstance(outcomes["fast"], Order) and outcomes["fast"].status == "pending"
    assert isinstance(outcomes["slow"], Order) and outcomes["slow"].status == "paid"
    product.refresh_from_db()
    assert (product.stock, product.units_sold) == (1, 4)
