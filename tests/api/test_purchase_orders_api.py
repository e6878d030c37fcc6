"""Replenishment over the merchant API: suppliers, reorder settings, and purchase orders through their
state machine, receiving through the stock ledger with Idempotency-Key retries that never double-count."""
from __future__ import annotations

from decimal import Decimal

import pytest

from shop.models import (
    InventoryDefaults,
    Product,
    ProductInventory,
    PurchaseOrder,
    PurchaseOrderReceipt,
    StockAdjustment,
    Supplier,
)
from tests.api.conftest import KeyedClient
from tests.api.test_concurrency import run_at_once
from tests.factories import ProductFactory


@pytest.fixture
def supplier(merchant) -> Supplier:
    return Supplier.objects.create(merchant=merchant, name="Acme Wholesale", email="orders@acme.example")


@pytest.fixture
def second(merchant, category) -> Product:
    return ProductFactory(merchant=merchant, category=category, sku="ACME-2", price=Decimal("3.00"), stock=0)


def stocks(*products) -> list[int]:
    return [Product.objects.get(pk=p.pk).stock for p in products]


def create(client, supplier, lines, **extra):
    body = {"supplier": supplier.pk, "lines": [{"product": p.pk, "quantity": q} for p, q in lines], **extra}
    return client.post("/api/v1/purchase-orders/", body, format="json")


def test_a_purchase_order_through_its_states(client_w, supplier, product, second):
    ProductInventory.objects.create(product=product, unit_cost=Decimal("7.25"))
    created = create(client_w, supplier, [(product, 10)], note="first try")
    assert created.status_code == 201, created.content
    body = created.json()
    url = f"/api/v1/purchase-orders/{body['id']}/"
    assert (body["number"], body["status"], body["merchant"], body["supplier_name"], body["note"]) == (
        f"PO-{body['id']}", "draft", "acme", "Acme Wholesale", "first try")
    assert [(line["sku"], line["quantity"], line["unit_cost"]) for line in body["lines"]] == [("ACME-1", 10, "7.25")]

    # A draft's lines are replaced by those sent; the note stays unless sent.
    changed = client_w.patch(url, {"lines": [{"product": product.pk, "quantity": 12}, {"product": second.pk, "quantity": 4}]},
                             format="json").json()
    assert [(line["sku"], line["quantity"], line["outstanding"]) for line in changed["lines"]] == [
        ("ACME-1", 12, 12), ("ACME-2", 4, 4)]
    assert changed["note"] == "first try"

    sent = client_w.post(f"{url}send/", {}, format="json").json()
    assert sent["status"] == "sent" and sent["sent_at"]
    for refused in (client_w.patch(url, {"note": "late"}, format="json"), client_w.delete(url),
                    client_w.post(f"{url}send/", {}, format="json")):
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "forbidden_transition", refused.content

    first_line, second_line = (line["id"] for line in sent["lines"])
    partly = client_w.post(f"{url}receive/", {"lines": [{"line": first_line, "quantity": 5}]}, format="json",
                           HTTP_IDEMPOTENCY_KEY="delivery-1")
    assert partly.status_code == 200, partly.content
    assert partly.json()["status"] == "partly_received" and stocks(product, second) == [10, 0]
    rest = client_w.post(f"{url}receive/", {}, format="json", HTTP_IDEMPOTENCY_KEY="delivery-2").json()
    assert rest["status"] == "received" and rest["received_at"]
    assert [(line["received_quantity"], line["outstanding"]) for line in rest["lines"]] == [(12, 0), (4, 0)]
    assert [r["quantities"] for r in rest["receipts"]] == [{str(first_line): 5}, {str(first_line): 7, str(second_line): 4}]
    assert stocks(product, second) == [17, 4]
    ledger = StockAdjustment.objects.filter(reason=f"received on PO-{body['id']}").order_by("pk")
    assert [(a.product.sku, a.delta, a.stock_after, a.api_key_id) for a in ledger] == [
        ("ACME-1", 5, 10, client_w.api_key.pk), ("ACME-1", 7, 17, client_w.api_key.pk), ("ACME-2", 4, 4, client_w.api_key.pk)]
    again = client_w.post(f"{url}receive/", {}, format="json", HTTP_IDEMPOTENCY_KEY="delivery-3")
    assert again.status_code == 409 and again.json()["error"]["message"] == (
        f"PO-{body['id']} is received: it cannot be received.")


def test_a_retried_receipt_with_the_same_key_books_nothing_twice(client_w, supplier, product):
    order = create(client_w, supplier, [(product, 10)]).json()
    url = f"/api/v1/purchase-orders/{order['id']}/"
    client_w.post(f"{url}send/", {}, format="json")
    line = order["lines"][0]["id"]
    body = {"lines": [{"line": line, "quantity": 3}]}
    responses = [client_w.post(f"{url}receive/", body, format="json", HTTP_IDEMPOTENCY_KEY="scan-77") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.get("Idempotent-Replayed") for r in responses] == [None, "true", "true"]
    assert responses[1].json() == responses[0].json()
    assert stocks(product) == [8]
    assert PurchaseOrderReceipt.objects.count() == 1 and StockAdjustment.objects.filter(delta=3).count() == 1
    # The same key for another delivery is refused, and books nothing.
    other = client_w.post(f"{url}receive/", {"lines": [{"line": line, "quantity": 4}]}, format="json",
                          HTTP_IDEMPOTENCY_KEY="scan-77")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert stocks(product) == [8]


def test_receiving_needs_an_idempotency_key(client_w, supplier, product):
    order = create(client_w, supplier, [(product, 2)]).json()
    client_w.post(f"/api/v1/purchase-orders/{order['id']}/send/", {}, format="json")
    response = client_w.post(f"/api/v1/purchase-orders/{order['id']}/receive/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "Idempotency-Key": ["Receiving needs an Idempotency-Key (a retry sends the same key)."]}
    assert stocks(product) == [5] and not PurchaseOrderReceipt.objects.exists()


def test_over_receiving_is_refused_and_books_nothing(client_w, supplier, product, second):
    order = create(client_w, supplier, [(product, 3), (second, 2)]).json()
    url = f"/api/v1/purchase-orders/{order['id']}/"
    client_w.post(f"{url}send/", {}, format="json")
    first_line, second_line = (line["id"] for line in order["lines"])
    response = client_w.post(f"{url}receive/", {"lines": [{"line": first_line, "quantity": 3}, {"line": second_line, "quantity": 5}]},
                             format="json", HTTP_IDEMPOTENCY_KEY="too-many")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "over_received"
    assert response.json()["error"]["message"] == "ACME-2: 5 received but only 2 of 2 are outstanding."
    assert stocks(product, second) == [5, 0] and not PurchaseOrderReceipt.objects.exists()
    assert PurchaseOrder.objects.get().status == "sent"
    unknown = client_w.post(f"{url}receive/", {"lines": [{"line": 999999, "quantity": 1}]}, format="json",
                            HTTP_IDEMPOTENCY_KEY="unknown")
    assert unknown.status_code == 400 and unknown.json()["error"]["message"] == "Line 999999 is not on this purchase order."


def test_receiving_a_draft_is_refused(client_w, supplier, product):
    order = create(client_w, supplier, [(product, 3)]).json()
    response = client_w.post(f"/api/v1/purchase-orders/{order['id']}/receive/", {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 409 and response.json()["error"]["code"] == "forbidden_transition"
    assert stocks(product) == [5]


def test_deleting_a_draft_cancels_it_and_changes_nothing_else(client_w, supplier, product):
    order = create(client_w, supplier, [(product, 3)]).json()
    url = f"/api/v1/purchase-orders/{order['id']}/"
    assert client_w.delete(url).status_code == 204
    assert client_w.get(url).json()["status"] == "cancelled"
    assert stocks(product) == [5] and not StockAdjustment.objects.exists()
    assert client_w.delete(url).status_code == 409
    assert client_w.get("/api/v1/purchase-orders/?open=true").json()["count"] == 0
    assert client_w.get("/api/v1/purchase-orders/?status=cancelled").json()["count"] == 1


@pytest.mark.parametrize("lines, message", [
    ([], "lines: This list may not be empty."),
    ([("ours", 0)], "lines.0.quantity: Ensure this value is greater than or equal to 1."),
    ([("ours", 2), ("ours", 3)], "lines.1.product: This product is on another line already."),
    ([("theirs", 2)], "Unknown products for Acme: {theirs}"),
])
def test_bad_purchase_orders_are_refused_and_store_nothing(client_w, supplier, product, other_merchant, lines, message):
    theirs = ProductFactory(merchant=other_merchant, sku="RIVAL-1")
    products = {"ours": product, "theirs": theirs}
    response = create(client_w, supplier, [(products[name], q) for name, q in lines])
    assert response.status_code == 400, response.content
    assert response.json()["error"]["message"] == message.format(theirs=theirs.pk)
    assert not PurchaseOrder.objects.exists()


def test_a_rivals_supplier_is_unknown(client_w, product, other_merchant):
    theirs = Supplier.objects.create(merchant=other_merchant, name="Rival Wholesale")
    response = create(client_w, theirs, [(product, 2)])
    assert response.status_code == 400 and response.json()["error"]["fields"] == {"supplier": ["Unknown supplier."]}
    assert not PurchaseOrder.objects.exists()


def test_a_read_key_cannot_order(client_r, supplier, product):
    response = create(client_r, supplier, [(product, 2)])
    assert response.status_code == 403 and not PurchaseOrder.objects.exists()
    assert client_r.get("/api/v1/purchase-orders/").status_code == 200


def test_purchase_order_list_queries_do_not_grow_with_orders(client_w, supplier, product, second):
    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client_w.get("/api/v1/purchase-orders/").status_code == 200
        return len(captured)

    create(client_w, supplier, [(product, 2)])
    one = count_queries()
    for _ in range(4):
        create(client_w, supplier, [(product, 2), (second, 1)])
    assert count_queries() == one


@pytest.mark.slow
def test_racing_retries_of_one_receipt_book_it_once(transactional_db, require_postgres, merchant, supplier, product):
    from shop.models import ApiKey
    from shop.services.api_keys import create_api_key

    _, raw = create_api_key(merchant, scope=ApiKey.Scope.WRITE)
    order = create(KeyedClient(None, raw), supplier, [(product, 10)]).json()
    url = f"/api/v1/purchase-orders/{order['id']}/"
    KeyedClient(None, raw).post(f"{url}send/", {}, format="json")

    def receive(i: int) -> int:
        return KeyedClient(None, raw).post(f"{url}receive/", {}, format="json", HTTP_IDEMPOTENCY_KEY="dock-1").status_code

    assert run_at_once(6, receive) == [200] * 6
    assert stocks(product) == [15]
    assert PurchaseOrderReceipt.objects.count() == 1


# --- suppliers and reorder settings --------------------------------------------------------------------
def test_suppliers_are_the_merchants_own(client_w, foreign_client):
    created = client_w.post("/api/v1/suppliers/", {"name": "Lamp Co", "lead_time_days": 12}, format="json")
    assert created.status_code == 201 and created.json()["merchant"] == "acme"
    clash = client_w.post("/api/v1/suppliers/", {"name": "Lamp Co"}, format="json")
    assert clash.status_code == 400 and clash.json()["error"]["fields"] == {"name": ["You already have a supplier with this name."]}
    # The rival may use the same name for its own supplier; it never sees ours.
    assert foreign_client.post("/api/v1/suppliers/", {"name": "Lamp Co"}, format="json").status_code == 201
    assert [s["merchant"] for s in foreign_client.get("/api/v1/suppliers/").json()["results"]] == ["rival"]
    bad = client_w.post("/api/v1/suppliers/", {"name": "Slow", "lead_time_days": -1}, format="json")
    assert bad.status_code == 400 and Supplier.objects.filter(name="Slow").count() == 0


def test_a_supplier_with_purchase_orders_cannot_be_deleted(client_w, supplier, product):
    create(client_w, supplier, [(product, 1)])
    response = client_w.delete(f"/api/v1/suppliers/{supplier.pk}/")
    assert response.status_code == 409 and Supplier.objects.filter(pk=supplier.pk).exists()


def test_product_reorder_settings_take_the_merchants_defaults(client_w, supplier, product):
    url = f"/api/v1/products/{product.pk}/inventory/"
    empty = client_w.get(url).json()
    assert empty == {
        "product": product.pk, "supplier": None, "lead_time_days": None, "service_level": None, "min_order_qty": None,
        "pack_size": None, "unit_cost": None,
        "effective": {"supplier": None, "lead_time_days": 7, "service_level": 0.95, "review_days": 7, "min_order_qty": 1,
                      "pack_size": 1, "unit_cost": "12.50"},
    }
    assert not ProductInventory.objects.exists()  # reading stores nothing

    supplier.lead_time_days = 10
    supplier.save()
    set_ = client_w.patch(url, {"supplier": supplier.pk, "pack_size": 6, "service_level": "0.9"}, format="json")
    assert set_.status_code == 200, set_.content
    assert set_.json()["effective"] == {"supplier": supplier.pk, "lead_time_days": 10, "service_level": 0.9,
                                        "review_days": 7, "min_order_qty": 1, "pack_size": 6, "unit_cost": "12.50"}
    # The merchant's defaults move every product that does not set its own.
    defaults = client_w.patch("/api/v1/inventory-defaults/acme/", {"min_order_qty": 24, "review_days": 14}, format="json")
    assert defaults.status_code == 200 and defaults.json()["min_order_qty"] == 24
    again = client_w.patch(url, {"lead_time_days": 3, "supplier": None}, format="json").json()
    assert again["effective"] == {"supplier": None, "lead_time_days": 3, "service_level": 0.9, "review_days": 14,
                                  "min_order_qty": 24, "pack_size": 6, "unit_cost": "12.50"}


@pytest.mark.parametrize("body, field", [
    ({"service_level": "1.2"}, "service_level"),
    ({"service_level": "0"}, "service_level"),
    ({"lead_time_days": -2}, "lead_time_days"),
    ({"pack_size": 0}, "pack_size"),
    ({"supplier": "rival"}, "supplier"),
    ({"stock": 3}, "stock"),
])
def test_bad_reorder_settings_are_refused_and_store_nothing(client_w, product, other_merchant, body, field):
    if body.get("supplier") == "rival":
        body = {"supplier": Supplier.objects.create(merchant=other_merchant, name="Rival Wholesale").pk}
    response = client_w.put(f"/api/v1/products/{product.pk}/inventory/", body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == [field]
    assert not ProductInventory.objects.exists()


def test_merchant_defaults_over_the_api(client_w, foreign_client, merchant):
    listed = client_w.get("/api/v1/inventory-defaults/").json()
    assert listed["count"] == 1 and listed["results"][0] == {
        "merchant": "acme", "lead_time_days": 7, "service_level": "0.950", "review_days": 7, "min_order_qty": 1,
        "pack_size": 1, "overstock_days": 90}
    assert not InventoryDefaults.objects.exists()
    bad = client_w.put("/api/v1/inventory-defaults/acme/", {"service_level": "1", "lead_time_days": 5}, format="json")
    assert bad.status_code == 400 and not InventoryDefaults.objects.exists()
    assert client_w.put("/api/v1/inventory-defaults/acme/", {"lead_time_days": 5}, format="json").status_code == 200
    assert InventoryDefaults.objects.get(merchant=merchant).lead_time_days == 5
    assert foreign_client.patch("/api/v1/inventory-defaults/acme/", {"lead_time_days": 1}, format="json").status_code == 404
    assert foreign_client.get("/api/v1/inventory-defaults/acme/").status_code == 404
    assert InventoryDefaults.objects.get(merchant=merchant).lead_time_days == 5
