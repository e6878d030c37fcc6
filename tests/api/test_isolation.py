"""Merchant isolation: another merchant's key walks every endpoint and method of the merchant API and
reaches nothing of ours. The list of operations comes from the OpenAPI schema, so a new endpoint is
walked (or the test fails for want of a request for it)."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from shop.models import Category, Order, OrderLine, Product, StockAdjustment
from tests.api.conftest import make_order
from tests.factories import ProductFactory, StaffFactory

OURS = ("/api/v1/products", "/api/v1/categories", "/api/v1/orders")


def merchant_api_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        if path.startswith(OURS)
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


def snapshot(merchant) -> dict:
    """Everything of `merchant` that the API could change, plus the shared category tree."""
    return {
        "products": list(Product.objects.filter(merchant=merchant).order_by("pk").values()),
        "adjustments": list(StockAdjustment.objects.filter(product__merchant=merchant).order_by("pk").values()),
        "orders": list(Order.objects.order_by("pk").values("number", "status", "updated_at")),
        "lines": list(OrderLine.objects.order_by("pk").values()),
        "categories": list(Category.objects.order_by("pk").values()),
    }


BODIES = {
    "/api/v1/products/": {"sku": "ACME-1", "title": "Copy", "price": "1.00"},
    "/api/v1/products/bulk-upsert/": {"rows": [{"sku": "ACME-1", "title": "Copy", "price": "1.00", "stock": 0}]},
    "/api/v1/products/{id}/": {"sku": "ACME-1", "title": "Stolen", "price": "0.01", "is_active": False},
    "/api/v1/products/{id}/stock-adjustments/": {"delta": -5, "reason": "theft"},
    "/api/v1/categories/": {"name": "Hijacked", "slug": "hijacked"},
    "/api/v1/categories/{id}/": {"name": "Hijacked", "slug": "hijacked"},
}
# Collection endpoints answer for the caller's own merchant: they may succeed, but on the rival's data only.
OWN_COLLECTIONS = {
    ("GET", "/api/v1/products/"), ("GET", "/api/v1/orders/"), ("POST", "/api/v1/products/"),
    ("POST", "/api/v1/products/bulk-upsert/"),
}
SHARED_READS = {("GET", "/api/v1/categories/"), ("GET", "/api/v1/categories/{id}/")}


def test_foreign_key_walk_reaches_nothing(merchant, other_merchant, product, category, foreign_client):
    order = make_order([(product, 2)])
    before = snapshot(merchant)
    operations = merchant_api_operations()
    # products (7), stock adjustments (2), categories (6), orders (2 + 5 actions)
    assert len(operations) == 22, operations

    for method, template in operations:
        path = (
            template.replace("{number}", order.number)
            .replace("categories/{id}", f"categories/{category.pk}")
            .replace("{id}", str(product.pk))
        )
        response = foreign_client.generic(method, path, json.dumps(BODIES.get(template, {})),
                                          content_type="application/json")
        label = (method, template, response.status_code, response.content[:200])
        if (method, template) in OWN_COLLECTIONS:
            assert response.status_code in (200, 201), label
            if method == "GET":
                assert response.json()["count"] == 0, label  # nothing of ours is listed
        elif (method, template) in SHARED_READS:
            assert response.status_code == 200, label
        else:
            assert response.status_code in (403, 404), label
            assert set(response.json()["error"]) == {"code", "message", "fields"}

    # What the rival created with our SKU is theirs; nothing of ours changed.
    assert set(Product.objects.filter(sku="ACME-1").values_list("merchant__slug", flat=True)) == {"acme", "rival"}
    assert snapshot(merchant) == before


def test_staff_sees_every_merchant(merchant, other_merchant, product):
    ProductFactory(merchant=other_merchant, price=Decimal("1.00"))
    client = APIClient()
    client.force_login(StaffFactory())
    assert client.get("/api/v1/products/").json()["count"] == 2


def test_orders_show_only_our_lines(merchant, other_merchant, product, client_w, foreign_client):
    theirs = ProductFactory(merchant=other_merchant, price=Decimal("4.00"), stock=3)
    order = make_order([(product, 2), (theirs, 1)])
    ours = client_w.get(f"/api/v1/orders/{order.number}/").json()
    assert [line["sku"] for line in ours["lines"]] == [product.sku]
    assert ours["merchant_total"] == "25.00"
    assert ours["shipping_address"]["postcode"] == "YO1 1AA"
    assert "email" not in ours and "total" not in ours
    rival = foreign_client.get(f"/api/v1/orders/{order.number}/").json()
    assert [line["sku"] for line in rival["lines"]] == [theirs.sku] and rival["merchant_total"] == "4.00"


@pytest.mark.parametrize("path", ["/api/v1/products/{id}/", "/api/v1/products/{id}/stock-adjustments/"])
def test_foreign_product_ids_are_not_found(product, foreign_client, path):
    response = foreign_client.get(path.replace("{id}", str(product.pk)))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
