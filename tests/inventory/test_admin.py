"""The admin's reorder list (with "create purchase orders"), overstock list and purchase-order actions."""
from __future__ import annotations

import pytest

from shop.models import PurchaseOrder, PurchaseOrderStatus
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.slow


@pytest.fixture
def superuser(db):
    return StaffFactory(is_superuser=True)


def test_reorder_list_shows_the_due_product_and_creates_one_order_per_supplier(client, superuser, forecast_shop):
    merchant, supplier, products = forecast_shop
    client.force_login(superuser)
    page = client.get("/admin/shop/purchaseorder/reorder/")
    assert page.status_code == 200
    html = page.content.decode()
    assert products[0].sku in html and products[1].sku not in html
    assert "<td>42</td>" in html  # the suggested quantity
    response = client.post("/admin/shop/purchaseorder/reorder/", {"product": [products[0].pk]})
    assert response.status_code == 302
    order = PurchaseOrder.objects.get()
    assert (order.supplier, order.status, order.lines.get().quantity) == (supplier, PurchaseOrderStatus.DRAFT, 42)
    assert products[0].sku not in client.get("/admin/shop/purchaseorder/reorder/").content.decode()


def test_overstock_list_shows_capital_tied_up(client, superuser, forecast_shop):
    merchant, supplier, products = forecast_shop
    client.force_login(superuser)
    html = client.get("/admin/shop/purchaseorder/overstock/").content.decode()
    assert products[1].sku in html and products[0].sku not in html
    assert f"{products[1].price * 500:.2f}" in html


def test_purchase_order_actions_send_and_receive(client, superuser, forecast_shop):
    merchant, supplier, products = forecast_shop
    client.force_login(superuser)
    client.post("/admin/shop/purchaseorder/reorder/", {"product": [products[0].pk]})
    order = PurchaseOrder.objects.get()
    for action in ("send_orders", "receive_outstanding", "receive_outstanding"):
        client.post("/admin/shop/purchaseorder/", {"action": action, "_selected_action": [order.pk]})
    order.refresh_from_db()
    products[0].refresh_from_db()
    assert order.status == PurchaseOrderStatus.RECEIVED and products[0].stock == 10 + 42  # received once


def test_staff_without_permissions_are_refused(client, db):
    user = UserFactory(is_staff=True)
    client.force_login(user)
    assert client.get("/admin/shop/purchaseorder/reorder/").status_code == 403
    assert client.get("/admin/shop/purchaseorder/overstock/").status_code == 403
