"""The adapter's order methods for the chat: only the owner, or whoever gives the order's e-mail, learns
anything; cancelling and changing the address go through the shop's pipeline and rules."""
from __future__ import annotations

from decimal import Decimal

import pytest

from ai.adapter import BaseShopAdapter, OrderActionError
from shop.ai_adapter import ShopAdapter
from shop.models import Order, OrderStatus, OrderStatusChange
from shop.services.orders import transition


@pytest.fixture
def adapter() -> ShopAdapter:
    return ShopAdapter()


def test_owner_finds_their_order_with_its_lines(adapter, orders, customer):
    info = adapter.find_order("ai-261130-bbbbbb", user_id=customer.pk)
    assert info.number == "AI-261130-BBBBBB"
    assert (info.status, info.status_label, info.total, info.currency) == ("pending", "Pending", Decimal("17.00"), "GBP")
    assert [(line.title, line.quantity) for line in info.lines] == [("Moroccan Metal Lantern", 2)]
    assert info.can_cancel and info.can_change_address
    assert info.url == "/account/orders/AI-261130-BBBBBB/"


@pytest.mark.parametrize(
    ("number", "user", "email"),
    [
        ("AI-261129-CCCCCC", "stranger", None),  # a stranger's order number, signed in
        ("AI-261129-CCCCCC", None, "mallory@example.com"),  # the right number with the wrong e-mail
        ("AI-261129-CCCCCC", None, None),  # the number alone
        ("AI-261130-BBBBBB", "stranger", "mallory@example.com"),  # another customer's order
        ("AI-999999-ZZZZZZ", None, "guest@example.com"),  # no such order
    ],
)
def test_anyone_else_learns_nothing(adapter, orders, stranger, number, user, email):
    user_id = stranger.pk if user else None
    assert adapter.find_order(number, user_id=user_id, email=email) is None
    with pytest.raises(OrderActionError) as refused:
        adapter.cancel_order(number, user_id=user_id, email=email)
    assert refused.value.message == "I could not find that order."
    assert Order.objects.get(number="AI-261129-CCCCCC").status == OrderStatus.PENDING


def test_guest_with_number_and_matching_email_finds_it(adapter, orders):
    info = adapter.find_order("AI-261129-CCCCCC", email=" Guest@Example.com ")
    assert info is not None and info.url == ""  # guests have no account page


def test_latest_orders_newest_first(adapter, orders, customer, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        latest = adapter.latest_orders(customer.pk)
    assert [o.number for o in latest] == ["AI-261130-BBBBBB", "AI-261101-AAAAAA"]


def test_shipped_and_delivered_dates(adapter, orders, customer):
    order = orders["pending"]
    transition(order, OrderStatus.PAID)
    transition(order, OrderStatus.SHIPPED)
    info = adapter.find_order(order.number, user_id=customer.pk)
    assert info.shipped_at is not None and info.delivered_at is None
    assert not info.can_cancel and not info.can_change_address


def test_cancel_goes_through_the_pipeline_and_restocks(adapter, orders, customer, catalogue):
    lantern = catalogue["lantern"]
    info = adapter.cancel_order("AI-261130-BBBBBB", user_id=customer.pk, actor="support chat")
    assert info.status == "cancelled" and not info.can_cancel
    lantern.refresh_from_db()
    assert lantern.stock == 5 + 2
    change = OrderStatusChange.objects.get(order=orders["pending"], to_status=OrderStatus.CANCELLED)
    assert (change.from_status, change.changed_by, change.actor) == ("pending", customer, "support chat")


def test_guest_cancels_with_number_and_email(adapter, orders, catalogue):
    adapter.cancel_order("AI-261129-CCCCCC", email="guest@example.com")
    assert Order.objects.get(number="AI-261129-CCCCCC").status == OrderStatus.CANCELLED


def test_shipped_order_cannot_be_cancelled(adapter, orders, customer, catalogue):
    transition(orders["pending"], OrderStatus.PAID)
    transition(orders["pending"], OrderStatus.SHIPPED)
    with pytest.raises(OrderActionError, match="is shipped and can no longer be cancelled"):
        adapter.cancel_order("AI-261130-BBBBBB", user_id=customer.pk)
    catalogue["lantern"].refresh_from_db()
    assert catalogue["lantern"].stock == 5


NEW_ADDRESS = {"name": "Ada Lovelace", "line1": "2 Low Street", "city": "Leeds", "postcode": "LS1 1AA", "country": "United Kingdom"}


def test_change_address_before_shipping(adapter, orders, customer):
    info = adapter.change_shipping_address("AI-261130-BBBBBB", NEW_ADDRESS, user_id=customer.pk)
    assert (info.shipping_city, info.shipping_postcode) == ("Leeds", "LS1 1AA")
    order = Order.objects.get(number="AI-261130-BBBBBB")
    assert (order.shipping_line1, order.shipping_line2, order.status) == ("2 Low Street", "", OrderStatus.PENDING)
    assert OrderStatusChange.objects.filter(order=order, note__startswith="shipping address changed to 2 Low Street").exists()


def test_change_address_refused_after_shipping_and_for_bad_addresses(adapter, orders, customer):
    with pytest.raises(OrderActionError, match="Postcode is required"):
        adapter.change_shipping_address("AI-261130-BBBBBB", {**NEW_ADDRESS, "postcode": " "}, user_id=customer.pk)
    transition(orders["pending"], OrderStatus.PAID)
    transition(orders["pending"], OrderStatus.SHIPPED)
    with pytest.raises(OrderActionError, match="its address can no longer change"):
        adapter.change_shipping_address("AI-261130-BBBBBB", NEW_ADDRESS, user_id=customer.pk)
    assert Order.objects.get(number="AI-261130-BBBBBB").shipping_city == "York"


def test_search_products_with_price_and_stock_filters(adapter, catalogue):
    found = adapter.search_products("lantern", max_price=Decimal("10"), in_stock_only=True)
    assert [p.title for p in found] == ["Moroccan Metal Lantern"]
    assert {p.title for p in adapter.search_products("lantern")} == {
        "Moroccan Metal Lantern", "Large Glass Lantern", "Paper Lantern Garland"
    }


def test_base_adapter_defaults_are_safe(catalogue):
    class Minimal(BaseShopAdapter):
        def iter_products(self, active_only=False):
            return ShopAdapter().iter_products(active_only)

    minimal = Minimal()
    assert minimal.find_order("AI-261130-BBBBBB", email="ada@example.com") is None
    assert minimal.latest_orders(1) == []
    with pytest.raises(OrderActionError):
        minimal.cancel_order("AI-261130-BBBBBB")
    assert [p.title for p in minimal.search_products("polka mug")] == ["Polka Dot Mug"]
