"""Bad input gets 400 (or 413/415) with the error body, never a 500, and stores nothing."""
from __future__ import annotations

import json

import pytest
from django.test import override_settings

from shop.models import Product, StockAdjustment

VALID = {"sku": "NEW-1", "title": "Candle", "price": "4.50", "stock": 3}


def body_with(**changes) -> bytes:
    return json.dumps({**VALID, **changes}).encode()


BAD_BODIES = {
    "malformed json": b'{"sku": "NEW-1", "title": ',
    "not an object": b'["sku", "NEW-1"]',
    "bare string": b'"hello"',
    "nan": b'{"sku": "NEW-1", "title": "Candle", "price": NaN}',
    "infinity price": b'{"sku": "NEW-1", "title": "Candle", "price": 1e400}',
    "invalid utf-8": b'{"sku": "NEW-1", "title": "Caf\xe9\xff", "price": "1.00"}',
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "unknown field": body_with(colour="red"),
    "read-only field": body_with(units_sold=100),
    "negative price": body_with(price="-0.01"),
    "negative stock": body_with(stock=-1),
    "huge price": body_with(price="12345678901234567890.00"),
    "too many decimals": body_with(price="1.001"),
    "huge stock": body_with(stock=10**40),
    "price wrong type": body_with(price={"amount": 1}),
    "stock wrong type": body_with(stock="many"),
    "stock float": body_with(stock=1.5),
    "title null": body_with(title=None),
    "title too long": body_with(title="x" * 201),
    "sku too long": body_with(sku="S" * 65),
    "description too long": body_with(description="d" * 10_001),
    "bad currency": body_with(currency="pounds"),
    "bad image url": body_with(image_url="javascript:alert(1)"),
    "unknown category": body_with(category=999999),
    "huge category id": body_with(category=10**30),
    "category wrong type": body_with(category="home"),
    "bad slug": body_with(slug="not a slug!"),
    "merchant from a key": body_with(merchant="rival"),
    "missing title": json.dumps({"sku": "NEW-1", "price": "1.00"}).encode(),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_bad_product_bodies_are_400(client_w, name):
    response = client_w.generic("POST", "/api/v1/products/", BAD_BODIES[name], content_type="application/json")
    assert response.status_code == 400, (name, response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"] in {"invalid", "parse_error"} and error["message"]
    assert not Product.objects.exists()


@pytest.mark.parametrize("field,value,expected", [
    ("colour", "red", "Unknown field."),
    ("stock", 4, "This field is read-only."),
    ("price", "-1.00", "Ensure this value is greater than or equal to 0."),
    ("title", "t" * 300, "Ensure this field has no more than 200 characters."),
])
def test_bad_updates_name_the_field(client_w, product, field, value, expected):
    response = client_w.patch(f"/api/v1/products/{product.pk}/", {field: value}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {field: [expected]}
    assert response.json()["error"]["message"].startswith(f"{field}: ")
    product.refresh_from_db()
    assert (product.title, product.stock, product.price) == ("Lantern", 5, product.price)


def test_form_bodies_are_415(client_w):
    response = client_w.post("/api/v1/products/", {"sku": "X", "title": "X", "price": "1"})  # multipart
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversized_bodies_are_413(client_w):
    big = body_with(description="d" * 2000)
    response = client_w.generic("POST", "/api/v1/products/", big, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert not Product.objects.exists()


@pytest.mark.parametrize("query, field, message", [
    ("min_price=abc", "min_price", "Enter a number."),
    ("min_price=1e400", "min_price", "Ensure that there are no more than 12 digits in total."),
    ("max_price=-1", "max_price", "Ensure this value is greater than or equal to 0."),
    ("min_price=NaN", "min_price", "Enter a number."),
    ("updated_since=yesterday", "updated_since", "Enter a valid date/time."),
    ("updated_since=9999-12-31T23:59:59-23:00", "updated_since", "Enter a valid ISO 8601 date-time."),
    ("is_active=maybe", "is_active", "Use true or false."),
    ("in_stock=2", "in_stock", "Use true or false."),
    ("category=abc", "category", "Enter a number."),
    ("category=99999999999999999999999", "category", "Ensure this value is less than or equal to 9007199254740992."),
    ("page_size=abc", "page_size", "A whole number from 1 to 500."),
])
def test_bad_query_parameters_are_400_naming_the_parameter(client_w, product, query, field, message):
    response = client_w.get(f"/api/v1/products/?{query}")
    assert response.status_code == 400, (query, response.content)
    error = response.json()["error"]
    assert (error["code"], error["message"], list(error["fields"]), error["fields"][field][0]) == (
        "invalid", f"{field}: {message}", [field], message
    )


@pytest.mark.parametrize("query", ["page=abc", "page=0", "page=999999"])
def test_a_page_that_does_not_exist_is_404(client_w, product, query):
    response = client_w.get(f"/api/v1/products/?{query}")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Invalid page.", "fields": {}}}


@pytest.mark.parametrize("query", ["status=lost", "placed_after=not-a-date", "placed_before=2026-13-45"])
def test_bad_order_filters_are_400(client_w, query):
    response = client_w.get(f"/api/v1/orders/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize("body,field", [
    ({"delta": 0, "reason": "nothing"}, "delta"),
    ({"delta": 10**12, "reason": "lots"}, "delta"),
    ({"delta": "five", "reason": "x"}, "delta"),
    ({"delta": 1}, "reason"),
    ({"delta": 1, "reason": ""}, "reason"),
    ({"delta": 1, "reason": "r" * 201}, "reason"),
    ({"delta": 1, "reason": "x", "stock_after": 99}, "stock_after"),
])
def test_bad_stock_adjustments_are_400(client_w, product, body, field):
    response = client_w.post(f"/api/v1/products/{product.pk}/stock-adjustments/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    product.refresh_from_db()
    assert product.stock == 5 and not StockAdjustment.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/nowhere/", "/api/v1/products/abc/", "/api/v1/products/99999999999999999999/",
                                  "/api/v1/orders/no%20such/"])
def test_unknown_urls_are_json_404(client_w, path):
    response = client_w.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(client_w):
    response = client_w.put("/api/v1/products/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("query, status, message", [
    ("search=%00", 400, "Null characters are not allowed."),
    ("sku=%00", 400, "sku: Null characters are not allowed."),
    ("status=%00", 400, "status: Select a valid choice. \x00 is not one of the available choices."),
    ("ordering=%00", 200, None),  # an unknown ordering is ignored (DRF's OrderingFilter)
    ("ordering=-nonexistent", 200, None),
    ("search=" + "x" * 5000, 200, None),  # a long search finds nothing
])
def test_odd_query_strings_are_answered_in_json(client_w, product, query, status, message):
    path = "/api/v1/orders/" if query.startswith("status") else "/api/v1/products/"
    response = client_w.get(f"{path}?{query}")
    assert response.status_code == status, (query, response.content)
    assert response["Content-Type"].startswith("application/json")
    if message:
        assert (response.json()["error"]["code"], response.json()["error"]["message"]) == ("invalid", message)
    else:
        expected = [] if query.startswith("search") else [product.sku]
        assert [row["sku"] for row in response.json()["results"]] == expected


@pytest.mark.parametrize("title", ["nul\x00byte", "\ud800"])
def test_unstorable_strings_are_400(client_w, title):
    body = json.dumps({**VALID, "title": title}).encode()
    response = client_w.generic("POST", "/api/v1/products/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert not Product.objects.exists()


def test_a_crash_is_a_json_500_without_details(client_w, monkeypatch):
    from shop.api.views import ProductViewSet

    def crash(self, request, *args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ProductViewSet, "list", crash)
    response = client_w.get("/api/v1/products/")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "server_error", "message": "Internal server error.", "fields": {}}}
