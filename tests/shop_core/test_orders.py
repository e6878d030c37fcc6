from __future__ import annotations

import pytest

from shop.exceptions import ForbiddenTransition
from shop.models import OrderStatus, Product
from shop.services import basket as baskets
from shop.services.orders import ALLOWED_TRANSITIONS, transition
from tests.factories import ProductFactory, StaffFactory

S = OrderStatus
# The route from "pending" to each status, through allowed transitions.
ROUTES = {
    S.PENDING: [],
    S.PAID: [S.PAID],
    S.SHIPPED: [S.PAID, S.SHIPPED],
    S.DELIVERED: [S.PAID, S.SHIPPED, S.DELIVERED],
    S.CANCELLED: [S.CANCELLED],
    S.REFUNDED: [S.PAID, S.REFUNDED],
}
ALLOWED = [(a, b) for a in S.values for b in S.values if b in ALLOWED_TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a in S.values for b in S.values if b not in ALLOWED_TRANSITIONS[a]]


@pytest.fixture
def stocked(signed_in):
    return ProductFactory(stock=10)


@pytest.fixture
def order(signed_in, stocked, checkout):
    baskets.add_to_basket(signed_in.request(), stocked.pk, 4)
    return checkout(baskets.get_basket(signed_in.request()), signed_in.user)


def _walk(order, status):
    for step in ROUTES[status]:
        transition(order, step, actor="test")
    return order


def test_transition_table_is_the_documented_pipeline():
    assert len(ALLOWED) == 8
    assert ALLOWED_TRANSITIONS[S.PENDING] == {S.PAID, S.CANCELLED}
    assert ALLOWED_TRANSITIONS[S.PAID] == {S.SHIPPED, S.CANCELLED, S.REFUNDED}
    assert ALLOWED_TRANSITIONS[S.SHIPPED] == {S.DELIVERED, S.REFUNDED}
    assert ALLOWED_TRANSITIONS[S.DELIVERED] == {S.REFUNDED}
    assert not ALLOWED_TRANSITIONS[S.CANCELLED] and not ALLOWED_TRANSITIONS[S.REFUNDED]


@pytest.mark.parametrize("from_status, to_status", ALLOWED)
def test_allowed_transition_is_recorded(order, from_status, to_status):
    _walk(order, from_status)
    staff = StaffFactory()
    changed = transition(order, to_status, user=staff, actor="admin: boss", note="why not")
    assert changed.status == order.status == to_status
    order.refresh_from_db()
    assert order.status == to_status
    last = order.status_changes.last()
    assert (last.from_status, last.to_status, last.changed_by, last.actor, last.note) == (
        from_status, to_status, staff, "admin: boss", "why not"
    )
    assert last.changed_at is not None
    assert order.status_changes.count() == len(ROUTES[from_status]) + 2


@pytest.mark.parametrize("from_status, to_status", FORBIDDEN)
def test_forbidden_transition_raises_and_changes_nothing(order, stocked, from_status, to_status):
    _walk(order, from_status)
    history = order.status_changes.count()
    stock = Product.objects.get(pk=stocked.pk).stock
    with pytest.raises(ForbiddenTransition) as raised:
        transition(order, to_status)
    assert (raised.value.from_status, raised.value.to_status) == (from_status, to_status)
    assert order.number in raised.value.message
    order.refresh_from_db()
    assert order.status == from_status
    assert order.status_changes.count() == history
    assert Product.objects.get(pk=stocked.pk).stock == stock


def test_unknown_status_is_forbidden(order):
    with pytest.raises(ForbiddenTransition):
        transition(order, "lost")


@pytest.mark.parametrize("via", [[], [S.PAID]])
def test_cancel_puts_the_stock_back(order, stocked, via):
    for step in via:
        transition(order, step)
    stocked.refresh_from_db()
    assert (stocked.stock, stocked.units_sold) == (6, 4)
    transition(order, S.CANCELLED, note="customer changed their mind")
    stocked.refresh_from_db()
    assert (stocked.stock, stocked.units_sold) == (10, 0)
    # A second cancel is refused, so the stock cannot come back twice.
    with pytest.raises(ForbiddenTransition):
        transition(order, S.CANCELLED)
    stocked.refresh_from_db()
    assert stocked.stock == 10


def test_refund_does_not_restock(order, stocked):
    _walk(order, S.DELIVERED)
    transition(order, S.REFUNDED)
    stocked.refresh_from_db()
    assert (stocked.stock, stocked.units_sold) == (6, 4)


def test_transition_works_on_a_stale_order_instance(order):
    stale = type(order).objects.get(pk=order.pk)
    transition(order, S.PAID)
    # The stale copy still says "pending", but transition decides on the locked row, which says "paid".
    with pytest.raises(ForbiddenTransition) as raised:
        transition(stale, S.PAID)
    assert raised.value.from_status == S.PAID


# --- releasing the stock of unpaid orders ---------------------------------------------------------------
def _placed(signed_in, checkout, product, quantity, hours_ago):
    from datetime import timedelta

    from django.utils import timezone

    baskets.add_to_basket(signed_in.request(), product.pk, quantity)
    return checkout(baskets.get_basket(signed_in.request()), signed_in.user,
                    placed_at=timezone.now() - timedelta(hours=hours_ago))


def test_unpaid_orders_are_cancelled_and_restocked_after_the_ttl(signed_in, checkout, stocked, settings):
    from shop.tasks import release_unpaid_orders

    settings.SHOP_UNPAID_ORDER_TTL_HOURS = 24
    stale = _placed(signed_in, checkout, stocked, 3, hours_ago=25)
    fresh = _placed(signed_in, checkout, stocked, 2, hours_ago=1)
    paid = _placed(signed_in, checkout, stocked, 1, hours_ago=30)
    transition(paid, S.PAID, actor="test")
    assert Product.objects.get(pk=stocked.pk).stock == 4

    assert release_unpaid_orders.apply().get() == 1
    assert release_unpaid_orders.apply().get() == 0  # idempotent: a second run finds nothing to do

    statuses = {o.number: o.status for o in type(stale).objects.all()}
    assert statuses == {stale.number: S.CANCELLED, fresh.number: S.PENDING, paid.number: S.PAID}
    assert Product.objects.get(pk=stocked.pk).stock == 7
    change = stale.status_changes.last()
    assert (change.from_status, change.to_status, change.actor) == (S.PENDING, S.CANCELLED, "stock release")
    assert change.note == "Not paid within 24 hours: cancelled and the stock released."
    assert stale.status_changes.filter(to_status=S.CANCELLED).count() == 1


def test_the_release_is_scheduled_in_beat():
    from types import SimpleNamespace

    from config.celery import setup_periodic_tasks

    sender = SimpleNamespace(conf=SimpleNamespace(beat_schedule={}))
    setup_periodic_tasks(sender)
    entry = sender.conf.beat_schedule["shop: release stock of unpaid orders"]
    assert entry == {"task": "shop.tasks.release_unpaid_orders", "schedule": 600.0}


@pytest.mark.parametrize("parts, expected", [
    (["pending"], "pending"),
    (["paid", "pending"], "pending"),
    (["shipped", "delivered"], "shipped"),
    (["shipped", "cancelled"], "shipped"),
    (["cancelled", "cancelled"], "cancelled"),
    (["refunded", "cancelled"], "refunded"),
    (["refunded", "delivered"], "delivered"),
    (["refunded", "paid", "cancelled"], "paid"),
])
def test_the_order_status_is_derived_from_its_parts(parts, expected):
    from shop.services.orders import derive_status

    assert derive_status(parts) == expected


def test_an_imported_order_without_parts_gets_them_when_it_moves(db):
    from decimal import Decimal

    from django.utils import timezone

    from shop.models import Order, OrderLine, OrderPart

    product = ProductFactory(stock=3)
    order = Order.objects.create(number="OR-1", status=S.PAID, subtotal=Decimal("1"), total=Decimal("1"),
                                 placed_at=timezone.now())
    OrderLine.objects.create(order=order, product=product, merchant=product.merchant, sku=product.sku,
                             title=product.title, unit_price=Decimal("1"), quantity=2, line_total=Decimal("2"))
    transition(order, S.CANCELLED, actor="test")
    assert list(OrderPart.objects.filter(order=order).values_list("merchant_id", "status")) == [
        (product.merchant_id, S.CANCELLED)
    ]
    assert Product.objects.get(pk=product.pk).stock == 5
