from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from shop.models import ApiKey, Order, OrderStatus, Product, StockAdjustment
from shop.services import basket as baskets
from shop.services.api_keys import create_api_key, find_active_key, hash_key
from tests.factories import CategoryFactory, MerchantFactory, ProductFactory


@pytest.fixture
def placed(signed_in, checkout):
    """Two pending orders of 2 units each."""
    product = ProductFactory(stock=10)
    orders = []
    for _ in range(2):
        baskets.add_to_basket(signed_in.request(), product.pk, 2)
        orders.append(checkout(baskets.get_basket(signed_in.request()), signed_in.user))
    return product, orders


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _act(client, model: str, action: str, objects):
    return client.post(
        reverse(f"admin:shop_{model}_changelist"),
        {"action": action, "_selected_action": [o.pk for o in objects]},
        follow=True,
    )


@pytest.mark.parametrize("model", ["merchant", "category", "product", "order", "apikey", "stockadjustment"])
def test_changelists_and_change_pages_render(admin_client, placed, model):
    create_api_key(MerchantFactory(), "write", "erp")
    StockAdjustment.objects.create(product=placed[0], delta=1, stock_after=7, reason="found one")
    response = admin_client.get(reverse(f"admin:shop_{model}_changelist"))
    assert response.status_code == 200
    obj = response.context["cl"].result_list[0]
    assert admin_client.get(reverse(f"admin:shop_{model}_change", args=[obj.pk])).status_code == 200


def test_order_page_shows_lines_and_history(admin_client, placed):
    _, orders = placed
    page = admin_client.get(reverse("admin:shop_order_change", args=[orders[0].pk])).content.decode()
    assert orders[0].lines.get().title in page
    assert "status history" in page.lower() and "Order placed" in page


def test_status_actions_go_through_transition(admin_client, admin_user, placed):
    product, orders = placed
    response = _act(admin_client, "order", "mark_paid", orders[:1])
    assert "1 order(s) marked paid." in _messages(response)
    # One allowed (pending → shipped is not), one forbidden: the forbidden one is reported, not applied.
    response = _act(admin_client, "order", "mark_shipped", orders)
    messages = _messages(response)
    assert "1 order(s) marked shipped." in messages
    assert any(orders[1].number in m and "cannot go from “pending” to “shipped”" in m for m in messages)
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {orders[0].pk: OrderStatus.SHIPPED, orders[1].pk: OrderStatus.PENDING}
    change = orders[0].status_changes.last()
    assert (change.changed_by, change.actor) == (admin_user, f"admin: {admin_user.username}")


def test_cancel_action_restocks(admin_client, placed):
    product, orders = placed
    _act(admin_client, "order", "mark_cancelled", orders)
    product.refresh_from_db()
    assert (product.stock, product.units_sold) == (10, 0)
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.CANCELLED}
    response = _act(admin_client, "order", "mark_refunded", orders)
    assert sum("cannot go from “cancelled” to “refunded”" in m for m in _messages(response)) == 2


def test_api_key_is_shown_once_and_stored_hashed(admin_client):
    merchant = MerchantFactory()
    response = admin_client.post(
        reverse("admin:shop_apikey_add"), {"merchant": merchant.pk, "name": "warehouse", "scope": "write"}, follow=True
    )
    assert response.status_code == 200
    raw = re.search(r"The new API key is (ak_[\w-]+)", " ".join(_messages(response))).group(1)
    api_key = ApiKey.objects.get()
    assert (api_key.merchant, api_key.name, api_key.scope) == (merchant, "warehouse", "write")
    assert api_key.hashed_key == hash_key(raw) and raw.startswith(api_key.prefix)
    assert find_active_key(raw) == api_key
    page = admin_client.get(reverse("admin:shop_apikey_change", args=[api_key.pk])).content.decode()
    assert raw not in page and api_key.hashed_key not in page
    listing = admin_client.get(reverse("admin:shop_apikey_changelist")).content.decode()
    assert raw not in listing and api_key.hashed_key not in listing


def test_revoke_action(admin_client):
    api_key, raw = create_api_key(MerchantFactory(), "read")
    response = _act(admin_client, "apikey", "revoke_keys", [api_key])
    assert "1 key(s) revoked." in _messages(response)
    assert find_active_key(raw) is None


def _product_form(product: Product, **changes) -> dict:
    data = {
        "merchant": product.merchant_id, "category": product.category_id or "", "title": product.title,
        "slug": product.slug, "description": product.description, "sku": product.sku, "price": str(product.price),
        "currency": product.currency, "stock": product.stock, "is_active": "on" if product.is_active else "",
        "image_url": product.image_url,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_editing_a_product_does_not_undo_a_sale_made_meanwhile(admin_client):
    product = ProductFactory(stock=10, category=CategoryFactory())
    form = _product_form(product, title="Renamed", **{"initial-stock": 10})
    Product.objects.filter(pk=product.pk).update(stock=7)  # a checkout while the form was open
    response = admin_client.post(reverse("admin:shop_product_change", args=[product.pk]), form)
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.title, product.stock) == ("Renamed", 7)
    assert not StockAdjustment.objects.exists()


def test_stock_edit_sets_the_count_and_books_it(admin_client, admin_user):
    product = ProductFactory(stock=10)
    Product.objects.filter(pk=product.pk).update(stock=7)
    # The form was shown at 10; the merchant counted 12.
    form = _product_form(product, stock=12, **{"initial-stock": 10})
    response = admin_client.post(reverse("admin:shop_product_change", args=[product.pk]), form)
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.stock == 12
    adjustment = StockAdjustment.objects.get()
    assert (adjustment.delta, adjustment.stock_after, adjustment.user) == (5, 12, admin_user)


def test_stock_is_editable_in_the_product_list(admin_client):
    products = [ProductFactory(stock=5), ProductFactory(stock=5)]
    page = admin_client.get(reverse("admin:shop_product_changelist")).content.decode()
    assert 'name="initial-form-0-stock"' in page  # the stock shown travels back with the edit
    data = {"form-TOTAL_FORMS": 2, "form-INITIAL_FORMS": 2, "_save": "Save"}
    for i, (product, stock) in enumerate(zip(sorted(products, key=lambda p: p.title), [5, 9], strict=False)):
        data.update({f"form-{i}-id": product.pk, f"form-{i}-stock": stock, f"initial-form-{i}-stock": 5,
                     f"form-{i}-is_active": "on"})
    response = admin_client.post(reverse("admin:shop_product_changelist"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert sorted(Product.objects.values_list("stock", flat=True)) == [5, 9]
    assert list(StockAdjustment.objects.values_list("delta", "stock_after")) == [(4, 9)]


def test_stock_adjustments_are_read_only(admin_client):
    assert admin_client.get(reverse("admin:shop_stockadjustment_add")).status_code == 403


def test_order_page_shows_each_merchants_part(admin_client, signed_in, checkout):
    from shop.services.orders import transition

    first, second = ProductFactory(stock=5), ProductFactory(stock=5)
    baskets.add_to_basket(signed_in.request(), first.pk, 1)
    baskets.add_to_basket(signed_in.request(), second.pk, 1)
    order = checkout(baskets.get_basket(signed_in.request()), signed_in.user)
    transition(order, OrderStatus.CANCELLED, merchant_ids=[second.merchant_id], actor="test")

    response = admin_client.get(reverse("admin:shop_order_change", args=[order.pk]))

    page = response.content.decode()
    assert "fulfilment by merchant" in page.lower()
    formset = next(f for f in response.context["inline_admin_formsets"] if f.opts.model.__name__ == "OrderPart")
    assert [(form.original.merchant, form.original.status) for form in formset] == [
        (first.merchant, "pending"), (second.merchant, "cancelled"),
    ]
