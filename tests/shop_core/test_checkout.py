from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ai.models import Event
from shop.exceptions import CheckoutError, EmptyBasket, InsufficientStock, PaymentDeclined, ProductUnavailable
from shop.models import BasketLine, Order, OrderStatus, Product
from shop.payments import PROVIDERS, PaymentProvider, PaymentResult, get_provider
from shop.services import basket as baskets
from shop.services.checkout import SHIPPING_METHODS, ShippingAddress
from shop.services.orders import generate_order_number
from tests.factories import ProductFactory


@pytest.fixture
def filled(signed_in):
    """A signed-in shopper with 2 × £4.50 and 3 × £10.00 in the basket."""
    mug = ProductFactory(title="Mug", price=Decimal("4.50"), stock=5)
    lamp = ProductFactory(title="Lamp", price=Decimal("10.00"), stock=3)
    baskets.add_to_basket(signed_in.request(), mug.pk, 2)
    baskets.add_to_basket(signed_in.request(), lamp.pk, 3)
    return signed_in, baskets.get_basket(signed_in.request()), mug, lamp


def test_place_order(filled, checkout, django_capture_on_commit_callbacks):
    shopper, basket, mug, lamp = filled
    placed_at = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order = checkout(basket, shopper.user, placed_at=placed_at, visitor_id=shopper.visitor_id)
    # The price paid is a snapshot: later price changes do not touch the order.
    Product.objects.filter(pk=mug.pk).update(price=Decimal("99.00"))

    order.refresh_from_db()
    assert re.fullmatch(r"AI-261129-[0-9A-HJKMNP-TV-Z]{6}", order.number)
    assert order.status == OrderStatus.PENDING
    assert order.user == shopper.user
    assert (order.subtotal, order.shipping_cost, order.total) == (Decimal("39.00"), Decimal("3.95"), Decimal("42.95"))
    assert (order.shipping_name, order.shipping_city, order.payment_method) == ("Ada Lovelace", "London", "pay_on_delivery")
    lines = {line.title: (line.unit_price, line.quantity, line.line_total) for line in order.lines.all()}
    assert lines == {"Mug": (Decimal("4.50"), 2, Decimal("9.00")), "Lamp": (Decimal("10.00"), 3, Decimal("30.00"))}
    mug.refresh_from_db()
    lamp.refresh_from_db()
    assert (mug.stock, mug.units_sold, lamp.stock, lamp.units_sold) == (3, 2, 0, 3)
    history = list(order.status_changes.values_list("from_status", "to_status", "changed_by", "changed_at"))
    assert history == [("", "pending", shopper.user.pk, placed_at)]
    assert BasketLine.objects.filter(basket=basket).count() == 0
    assert baskets.get_basket_count(shopper.request()) == 0
    # After commit, one purchase event per line, joined to the customer and the browser.
    assert len(callbacks) == 1
    purchases = Event.objects.filter(event_type="purchase").order_by("product_id")
    assert [(e.product_id, e.extra["quantity"], e.user_id, e.visitor_id) for e in purchases] == [
        (mug.pk, 2, shopper.user.pk, shopper.visitor_id),
        (lamp.pk, 3, shopper.user.pk, shopper.visitor_id),
    ]


def test_anonymous_checkout_needs_an_email(shopper, product, checkout):
    baskets.add_to_basket(shopper.request(), product.pk, 1)
    basket = baskets.get_basket(shopper.request())
    with pytest.raises(CheckoutError) as raised:
        checkout(basket, None, email="not-an-email")
    assert "email" in raised.value.fields
    order = checkout(basket, None, email=" guest@example.com ")
    assert (order.user, order.email) == (None, "guest@example.com")


def test_insufficient_stock_keeps_basket_and_stock(filled, checkout):
    shopper, basket, mug, lamp = filled
    Product.objects.filter(pk=lamp.pk).update(stock=2)  # someone else bought one meanwhile
    with pytest.raises(InsufficientStock) as raised:
        checkout(basket, shopper.user)
    assert raised.value.product.pk == lamp.pk
    assert (raised.value.requested, raised.value.available) == (3, 2)
    assert "only 2 of “Lamp”" in raised.value.message
    assert Order.objects.count() == 0
    assert dict(basket.lines.values_list("product_id", "quantity")) == {mug.pk: 2, lamp.pk: 3}
    assert dict(Product.objects.values_list("pk", "stock")) == {mug.pk: 5, lamp.pk: 2}
    assert set(Product.objects.values_list("units_sold", flat=True)) == {0}


def test_withdrawn_product_fails_checkout_and_keeps_basket(filled, checkout):
    shopper, basket, mug, lamp = filled
    Product.objects.filter(pk=mug.pk).update(is_active=False)
    with pytest.raises(ProductUnavailable, match="Mug"):
        checkout(basket, shopper.user)
    assert basket.lines.count() == 2
    assert Order.objects.count() == 0


def test_empty_basket(signed_in, checkout):
    basket = baskets.get_basket(signed_in.request(), create=True)
    with pytest.raises(EmptyBasket):
        checkout(basket, signed_in.user)


def test_second_submit_of_the_same_basket_finds_it_empty(filled, checkout):
    shopper, basket, mug, lamp = filled
    checkout(basket, shopper.user)
    with pytest.raises(EmptyBasket):
        checkout(basket, shopper.user)
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    "override, field",
    [
        ({"address": ShippingAddress(name="Ada", line1="", city="London", postcode="SW1", country="UK")}, "line1"),
        ({"address": ShippingAddress(name="Ada", line1="1 Road", city="x" * 101, postcode="SW1", country="UK")}, "city"),
        ({"address": ShippingAddress()}, "postcode"),
        ({"shipping_method": "teleport"}, "shipping_method"),
        ({"payment_method": "iou"}, "payment_method"),
    ],
)
def test_bad_checkout_input_stores_nothing(filled, checkout, override, field):
    shopper, basket, mug, lamp = filled
    with pytest.raises(CheckoutError) as raised:
        checkout(basket, shopper.user, **override)
    assert field in raised.value.fields
    assert Order.objects.count() == 0
    assert basket.lines.count() == 2
    assert dict(Product.objects.values_list("pk", "stock")) == {mug.pk: 5, lamp.pk: 3}


def test_address_from_form_data_strips_and_names_every_missing_field():
    address = ShippingAddress.from_data({"name": "  Ada ", "line1": "1 Road", "city": "Leeds", "postcode": "LS1", "country": "UK"})
    assert (address.name, address.line2) == ("Ada", "")
    with pytest.raises(CheckoutError) as raised:
        ShippingAddress.from_data({"name": "Ada"})
    assert set(raised.value.fields) == {"line1", "city", "postcode", "country"}


def test_address_may_be_given_as_form_data(filled, checkout):
    shopper, basket, _, _ = filled
    data = {"name": "Ada", "line1": "1 Road", "city": "Leeds", "postcode": "LS1 1AA", "country": "UK"}
    order = checkout(basket, shopper.user, address=data)
    assert (order.shipping_name, order.shipping_postcode) == ("Ada", "LS1 1AA")


def test_express_shipping_is_a_flat_rate(filled, checkout):
    shopper, basket, _, _ = filled
    order = checkout(basket, shopper.user, shipping_method="express")
    assert order.shipping_cost == SHIPPING_METHODS["express"].price
    assert order.total == Decimal("39.00") + SHIPPING_METHODS["express"].price


class _Declined(PaymentProvider):
    code, name = "declined", "Always declines"

    def authorise(self, order) -> PaymentResult:
        return PaymentResult(success=False, message="Card declined.")


class _Captured(PaymentProvider):
    code, name = "captured", "Takes the money now"

    def authorise(self, order) -> PaymentResult:
        return PaymentResult(success=True, captured=True, reference="txn-1")


class _Broken(PaymentProvider):
    code, name = "broken", "Times out"

    def authorise(self, order) -> PaymentResult:
        raise ConnectionError("payment gateway timed out")


@pytest.mark.parametrize("provider, message", [
    (_Declined(), "Card declined."),
    (_Broken(), "We could not reach the payment service: no money was taken."),
])
def test_declined_payment_cancels_the_order_restocks_and_keeps_the_basket(filled, checkout, monkeypatch, provider,
                                                                         message):
    shopper, basket, mug, lamp = filled
    monkeypatch.setitem(PROVIDERS, provider.code, provider)
    with pytest.raises(PaymentDeclined) as raised:
        checkout(basket, shopper.user, payment_method=provider.code)
    assert raised.value.message == message and raised.value.fields == {"payment_method": message}
    order = Order.objects.get()
    assert raised.value.order.pk == order.pk
    assert order.status == OrderStatus.CANCELLED
    assert list(order.status_changes.values_list("from_status", "to_status")) == [("", "pending"), ("pending", "cancelled")]
    assert order.status_changes.last().note == f"Payment declined: {message}"
    assert dict(basket.lines.values_list("product_id", "quantity")) == {mug.pk: 2, lamp.pk: 3}
    assert dict(Product.objects.values_list("pk", "stock")) == {mug.pk: 5, lamp.pk: 3}
    assert dict(Product.objects.values_list("pk", "units_sold")) == {mug.pk: 0, lamp.pk: 0}


def test_the_provider_is_asked_after_the_order_is_stored(filled, checkout, monkeypatch):
    """Authorisation sees the placed, pending order with its stock taken (it runs after the commit)."""
    shopper, basket, mug, lamp = filled
    seen = {}

    class _Inspecting(PaymentProvider):
        code, name = "inspecting", "Looks around"

        def authorise(self, order) -> PaymentResult:
            seen["status"] = Order.objects.get(pk=order.pk).status
            seen["stock"] = dict(Product.objects.values_list("pk", "stock"))
            return PaymentResult(success=True)

    monkeypatch.setitem(PROVIDERS, "inspecting", _Inspecting())
    checkout(basket, shopper.user, payment_method="inspecting")
    assert seen == {"status": OrderStatus.PENDING, "stock": {mug.pk: 3, lamp.pk: 0}}


def test_captured_payment_marks_the_order_paid(filled, checkout, monkeypatch):
    shopper, basket, _, _ = filled
    monkeypatch.setitem(PROVIDERS, "captured", _Captured())
    order = checkout(basket, shopper.user, payment_method="captured")
    assert order.status == OrderStatus.PAID
    assert list(order.status_changes.values_list("to_status", "note")) == [("pending", "Order placed"), ("paid", "txn-1")]


def test_get_provider():
    assert get_provider("pay_on_delivery").name == "Pay on delivery"
    with pytest.raises(CheckoutError):
        get_provider("bitcoin")


def test_order_numbers_are_readable_and_rarely_collide():
    numbers = [generate_order_number() for _ in range(2000)]
    # 30 random bits: 2000 draws share a number with probability ~0.2 %, three or more collisions ~1e-9.
    assert len(set(numbers)) >= 1998
    assert all(re.fullmatch(r"AI-\d{6}-[0-9A-Z]{6}", n) and not set(n[-6:]) & set("ILOU") for n in numbers)


def test_a_colliding_order_number_is_drawn_again(filled, checkout, monkeypatch):
    shopper, basket, _, _ = filled
    Order.objects.create(
        number="AI-261129-AAAAAA", email="x@example.com", subtotal=0, total=0, placed_at=datetime(2026, 11, 29, tzinfo=UTC)
    )
    drawn = iter(["AI-261129-AAAAAA", "AI-261129-BBBBBB"])
    monkeypatch.setattr("shop.services.checkout.generate_order_number", lambda when=None: next(drawn))
    order = checkout(basket, shopper.user)
    assert order.number == "AI-261129-BBBBBB"
    assert Order.objects.filter(number="AI-261129-AAAAAA").count() == 1
