"""Products: listing with filters, ordering and search; create, update, deactivate; stock; bulk upsert."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shop.models import Product, StockAdjustment
from tests.factories import CategoryFactory, ProductFactory


@pytest.fixture
def catalogue(merchant, category):
    candles = CategoryFactory(parent=category, slug="candles", name="Candles")
    return [
        ProductFactory(merchant=merchant, category=category, sku="A", title="Apple crate", price=Decimal("30.00"), stock=0),
        ProductFactory(merchant=merchant, category=candles, sku="B", title="Beeswax candle", price=Decimal("8.00"), stock=4),
        ProductFactory(merchant=merchant, category=candles, sku="C", title="Cedar candle", price=Decimal("12.00"),
                       stock=9, is_active=False),
    ]


@pytest.mark.parametrize("query,expected", [
    ("", ["A", "B", "C"]),
    ("in_stock=true", ["B", "C"]),
    ("in_stock=false", ["A"]),
    ("is_active=false", ["C"]),
    ("min_price=8&max_price=12", ["B", "C"]),
    ("search=candle", ["B", "C"]),
    ("sku=B", ["B"]),
    ("ordering=-price", ["A", "C", "B"]),
    ("ordering=stock", ["A", "B", "C"]),
])
def test_list_filters_and_ordering(client_r, catalogue, query, expected):
    response = client_r.get(f"/api/v1/products/?{query}")
    assert response.status_code == 200
    assert [p["sku"] for p in response.json()["results"]] == expected


def test_category_filter_includes_subcategories(client_r, catalogue, category):
    skus = lambda q: sorted(p["sku"] for p in client_r.get(f"/api/v1/products/?{q}").json()["results"])  # noqa: E731
    assert skus(f"category={category.pk}") == ["A", "B", "C"]
    assert skus(f"category={catalogue[1].category_id}") == ["B", "C"]


def test_updated_since(client_r, catalogue):
    Product.objects.filter(sku="A").update(updated_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    response = client_r.get("/api/v1/products/", {"updated_since": since})
    assert sorted(p["sku"] for p in response.json()["results"]) == ["B", "C"]


def test_pagination(client_r, merchant):
    ProductFactory.create_batch(7, merchant=merchant)
    page = client_r.get("/api/v1/products/?page_size=3&page=3").json()
    assert page["count"] == 7 and len(page["results"]) == 1 and page["next"] is None
    assert "page=2" in page["previous"]


def test_create_update_deactivate(client_w, category):
    created = client_w.post("/api/v1/products/", {"sku": "N-1", "title": "Brass hook", "price": "2.50",
                                                  "stock": 7, "category": category.pk}, format="json")
    assert created.status_code == 201
    data = created.json()
    assert (data["slug"], data["stock"], data["category_path"], data["merchant"]) == ("brass-hook", 7, "home", "acme")
    product = Product.objects.get(pk=data["id"])
    # the opening stock is in the ledger
    assert list(product.stock_adjustments.values_list("delta", "stock_after", "reason")) == [(7, 7, "opening stock")]

    replaced = client_w.put(f"/api/v1/products/{product.pk}/", {"sku": "N-1", "title": "Brass hook, large",
                                                                "price": "3.00"}, format="json")
    assert replaced.status_code == 200 and replaced.json()["price"] == "3.00"
    patched = client_w.patch(f"/api/v1/products/{product.pk}/", {"description": "Solid."}, format="json")
    assert patched.json()["description"] == "Solid." and patched.json()["title"] == "Brass hook, large"

    assert client_w.delete(f"/api/v1/products/{product.pk}/").status_code == 204
    product.refresh_from_db()
    assert product.is_active is False and product.stock == 7  # deactivated, not deleted


def test_duplicate_sku_is_400(client_w, product):
    response = client_w.post("/api/v1/products/", {"sku": product.sku, "title": "Twin", "price": "1.00"},
                             format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"sku": ["You already have a product with this SKU."]}
    assert Product.objects.count() == 1


def test_stock_adjustments_are_recorded_and_never_below_zero(client_w, product):
    url = f"/api/v1/products/{product.pk}/stock-adjustments/"
    added = client_w.post(url, {"delta": 10, "reason": "delivery 42"}, format="json")
    assert added.status_code == 201 and added.json()["stock_after"] == 15
    removed = client_w.post(url, {"delta": -15, "reason": "stock count"}, format="json")
    assert removed.json()["stock_after"] == 0
    refused = client_w.post(url, {"delta": -1, "reason": "damaged"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "stock_below_zero"
    assert "0 in stock" in refused.json()["error"]["message"]
    product.refresh_from_db()
    assert product.stock == 0
    listed = client_w.get(url).json()
    assert listed["count"] == 2
    assert [(a["delta"], a["reason"], a["api_key"]) for a in listed["results"]] == [
        (-15, "stock count", client_w.api_key.prefix), (10, "delivery 42", client_w.api_key.prefix)
    ]


# --- bulk upsert --------------------------------------------------------------------------------------
def test_bulk_upsert_creates_and_updates(client_w, product, category):
    rows = [
        {"sku": product.sku, "price": "13.00", "stock": 8},
        {"sku": "NEW-1", "title": "Wool throw", "price": "40.00", "stock": 2, "category": category.pk},
        {"sku": "NEW-2", "title": "Jug", "price": "9.00"},
    ]
    response = client_w.post("/api/v1/products/bulk-upsert/", {"rows": rows}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["created"], response.json()["updated"]) == (2, 1)
    product.refresh_from_db()
    assert (product.price, product.stock, product.title) == (Decimal("13.00"), 8, "Lantern")
    throw = Product.objects.get(sku="NEW-1")
    assert (throw.slug, throw.category, throw.stock, throw.merchant) == ("wool-throw", category, 2, product.merchant)
    ledger = {(a.product.sku, a.delta, a.stock_after) for a in StockAdjustment.objects.select_related("product")}
    assert ledger == {(product.sku, 3, 8), ("NEW-1", 2, 2)}


@pytest.mark.parametrize("bad_row,field", [
    ({"sku": "NEW-9", "price": "-1.00", "title": "Bad"}, "price"),
    ({"sku": "NEW-9", "title": "No price"}, "price"),
    ({"sku": "NEW-9", "title": "x", "price": "1.00", "colour": "red"}, "colour"),
    ({"sku": "NEW-9", "title": "x", "price": "1.00", "category": 999999}, "category"),
    ({"sku": "ACME-1", "title": "Duplicate of row 0"}, "sku"),
    ({"title": "No SKU", "price": "1.00"}, "sku"),
])
def test_bulk_upsert_is_all_or_nothing(client_w, product, bad_row, field):
    rows = [{"sku": product.sku, "title": "Renamed", "stock": 50}, {"sku": "NEW-1", "title": "Ok", "price": "1.00"},
            bad_row]
    response = client_w.post("/api/v1/products/bulk-upsert/", {"rows": rows}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert list(error["fields"]["rows"]) == ["2"]
    assert field in error["fields"]["rows"]["2"]
    product.refresh_from_db()
    assert (product.title, product.stock) == ("Lantern", 5)
    assert Product.objects.count() == 1 and not StockAdjustment.objects.exists()


def test_bulk_upsert_limits(client_w):
    too_many = [{"sku": f"S{i}", "title": "t", "price": "1.00"} for i in range(1001)]
    for body in ({"rows": too_many}, {"rows": []}, {"rows": "all"}, {}):
        response = client_w.post("/api/v1/products/bulk-upsert/", body, format="json")
        assert response.status_code == 400
        assert "rows" in response.json()["error"]["fields"]
    assert not Product.objects.exists()


def test_bulk_upsert_keeps_slugs_of_existing_products(client_w, product):
    old_slug = product.slug
    response = client_w.post("/api/v1/products/bulk-upsert/", {"rows": [{"sku": product.sku, "title": "Renamed"},
                                                                         {"sku": "N", "title": "Tin Can", "price": "1"}]},
                             format="json")
    assert response.status_code == 200
    product.refresh_from_db()
    assert (product.title, product.slug) == ("Renamed", old_slug)
    assert Product.objects.get(sku="N").slug == "tin-can"


def test_patch_writes_only_the_fields_sent(client_w, product, monkeypatch):
    """A sale between the PATCH reading the product and saving it survives (no lost update)."""
    from shop.api import serializers as s
    from shop.services import stock

    original = s.ProductSerializer.validate

    def validate_after_a_sale(self, attrs):
        stock.take_stock({product.pk: 2})  # a checkout sells 2 of the 5 meanwhile
        return original(self, attrs)

    monkeypatch.setattr(s.ProductSerializer, "validate", validate_after_a_sale)
    response = client_w.patch(f"/api/v1/products/{product.pk}/", {"title": "Renamed"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["stock"] == 3
    product.refresh_from_db()
    assert (product.title, product.stock, product.units_sold) == ("Renamed", 3, 2)
