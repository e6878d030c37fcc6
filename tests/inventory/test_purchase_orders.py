"""Purchase orders: the state machine, receiving through the stock ledger, retries and races."""
from __future__ import annotations

import pytest

from shop.models import Product, PurchaseOrder, PurchaseOrderReceipt, PurchaseOrderStatus, StockAdjustment, Supplier
from shop.services import purchasing
from tests.api.test_concurrency import run_at_once
from tests.factories import MerchantFactory, ProductFactory

Status = PurchaseOrderStatus


def make_order(stock=(2, 0), quantities=(10, 4)):
    merchant = MerchantFactory()
    supplier = Supplier.objects.create(merchant=merchant, name="Acme Wholesale")
    products = [ProductFactory(merchant=merchant, stock=s) for s in stock]
    order = purchasing.create_purchase_order(supplier, {p.pk: q for p, q in zip(products, quantities, strict=True)})
    return order, products


def stocks(products):
    return [Product.objects.get(pk=p.pk).stock for p in products]


def test_a_draft_is_sent_then_received_in_two_deliveries(db):
    order, products = make_order()
    assert order.status == Status.DRAFT and [line.quantity for line in order.lines.all()] == [10, 4]
    order = purchasing.send(order)
    assert order.status == Status.SENT and order.sent_at
    first, second = order.lines.all()
    purchasing.receive(order, {first.pk: 6}, key="delivery-1")
    order.refresh_from_db()
    assert order.status == Status.PARTLY_RECEIVED and stocks(products) == [8, 0]
    purchasing.receive(order, None, key="delivery-2")  # everything outstanding: 4 + 4
    order.refresh_from_db()
    assert order.status == Status.RECEIVED and order.received_at
    assert stocks(products) == [12, 4]
    ledger = StockAdjustment.objects.filter(product__in=products).order_by("pk")
    assert [(a.delta, a.stock_after) for a in ledger] == [(6, 8), (4, 12), (4, 4)]
    assert all(a.reason == f"received on {order.number}" for a in ledger)


def test_a_retried_receipt_changes_nothing(db):
    order, products = make_order()
    purchasing.send(order)
    line = order.lines.first()
    first = purchasing.receive(order, {line.pk: 3}, key="scan-77")
    again = purchasing.receive(order, {line.pk: 3}, key="scan-77")
    assert again.pk == first.pk
    assert stocks(products) == [5, 0]
    assert PurchaseOrderReceipt.objects.count() == 1


def test_over_receiving_is_refused_and_stores_nothing(db):
    order, products = make_order()
    purchasing.send(order)
    first, second = order.lines.all()
    with pytest.raises(purchasing.OverReceived, match="only 4 of 4 are outstanding"):
        purchasing.receive(order, {first.pk: 2, second.pk: 5}, key="too-many")
    assert stocks(products) == [2, 0]
    assert not PurchaseOrderReceipt.objects.exists()
    order.refresh_from_db()
    assert order.status == Status.SENT


def test_a_fully_received_order_cannot_be_received_again(db):
    order, products = make_order()
    purchasing.send(order)
    purchasing.receive(order, None, key="all")
    with pytest.raises(purchasing.ForbiddenPurchaseOrderTransition, match="is received: it cannot be received"):
        purchasing.receive(order, None, key="all-again")
    assert stocks(products) == [12, 4]


@pytest.mark.parametrize(
    "quantities, key, error, message",
    [
        ({999999: 1}, "k", purchasing.InvalidReceipt, "not on this purchase order"),
        ("first:-1", "k", purchasing.InvalidReceipt, "cannot be negative"),
        ("first:x", "k", purchasing.InvalidReceipt, "not a whole number"),
        ("first:0", "k", purchasing.InvalidReceipt, "books no units"),
        ("first:1", "", purchasing.InvalidReceipt, "needs a key"),
    ],
)
def test_bad_receipts_are_refused(db, quantities, key, error, message):
    order, products = make_order()
    purchasing.send(order)
    if isinstance(quantities, str):
        units = quantities.split(":")[1]
        quantities = {order.lines.first().pk: units}
    with pytest.raises(error, match=message):
        purchasing.receive(order, quantities, key=key)
    assert stocks(products) == [2, 0]


def test_cancelling_a_draft_changes_nothing_else_and_only_a_draft_can_be_cancelled(db):
    order, products = make_order()
    purchasing.cancel(order)
    order.refresh_from_db()
    assert order.status == Status.CANCELLED and stocks(products) == [2, 0]
    assert purchasing.on_order(p.pk for p in products) == {}
    with pytest.raises(purchasing.ForbiddenPurchaseOrderTransition):
        purchasing.send(order)
    sent, _ = make_order()
    purchasing.send(sent)
    with pytest.raises(purchasing.ForbiddenPurchaseOrderTransition, match="only a draft"):
        purchasing.cancel(sent)
    with pytest.raises(purchasing.ForbiddenPurchaseOrderTransition):
        purchasing.receive(order, None, key="x")


def test_on_order_counts_what_is_outstanding(db):
    order, products = make_order()
    assert purchasing.on_order(p.pk for p in products) == {products[0].pk: 10, products[1].pk: 4}
    purchasing.send(order)
    purchasing.receive(order, {order.lines.first().pk: 7}, key="k")
    assert purchasing.on_order(p.pk for p in products) == {products[0].pk: 3, products[1].pk: 4}


def test_lines_must_be_the_suppliers_merchants_products(db):
    order, products = make_order()
    stranger = ProductFactory()
    with pytest.raises(purchasing.InvalidReceipt, match="Unknown products"):
        purchasing.create_purchase_order(order.supplier, {stranger.pk: 1})
    with pytest.raises(purchasing.InvalidReceipt, match="at least 1"):
        purchasing.create_purchase_order(order.supplier, {products[0].pk: 0})
    assert PurchaseOrder.objects.count() == 1


@pytest.mark.postgres
def test_racing_receipts_never_double_count(transactional_db, require_postgres):
    order, products = make_order(stock=(0, 0), quantities=(10, 4))
    purchasing.send(order)
    line = order.lines.order_by("pk").first()

    def deliver(i: int) -> str:
        # Threads 0-3 retry one receipt; 4-11 each try to book 3 units of a line with 10 outstanding.
        key = "same-scan" if i < 4 else f"scan-{i}"
        try:
            purchasing.receive(PurchaseOrder.objects.get(pk=order.pk), {line.pk: 3}, key=key)
            return "ok"
        except purchasing.OverReceived:
            return "over"

    results = run_at_once(12, deliver)
    line.refresh_from_db()
    # 10 outstanding: three receipts of 3 fit (the retried one counting once), the rest are refused.
    assert line.received_quantity == 9
    assert stocks(products) == [9, 0]
    assert PurchaseOrderReceipt.objects.filter(order=order).count() == 3
    same_scan_won = PurchaseOrderReceipt.objects.filter(order=order, key="same-scan").exists()
    # Three receipts won; when the retried one was among them, its three retries answered with it too.
    assert results.count("ok") == (6 if same_scan_won else 3)
    assert StockAdjustment.objects.filter(product=products[0]).count() == 3
