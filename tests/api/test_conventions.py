"""Idempotency-Key replays, throttling per key, and the docs served without a CDN."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from shop.models import IdempotencyRecord, Product, StockAdjustment
from tests.api.conftest import keyed_client

BODY = {"sku": "IDEM-1", "title": "Tea towel", "price": "6.00", "stock": 2}


def test_same_key_same_body_replays_the_first_response(client_w):
    first = client_w.post("/api/v1/products/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    again = client_w.post("/api/v1/products/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Product.objects.count() == 1 and StockAdjustment.objects.count() == 1


def test_same_key_other_body_is_refused(client_w):
    client_w.post("/api/v1/products/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = client_w.post("/api/v1/products/", {**BODY, "sku": "IDEM-2"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert list(Product.objects.values_list("sku", flat=True)) == ["IDEM-1"]


def test_keys_are_per_api_key_and_failures_are_not_stored(merchant, client_w):
    bad = client_w.post("/api/v1/products/", {**BODY, "price": "-1"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert bad.status_code == 400 and not IdempotencyRecord.objects.exists()
    fixed = client_w.post("/api/v1/products/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert fixed.status_code == 201
    # another key of the same merchant may use the same Idempotency-Key for its own request
    other = keyed_client(merchant).post("/api/v1/products/", {**BODY, "sku": "IDEM-3"}, format="json",
                                        HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert Product.objects.count() == 2


def test_stock_adjustment_and_bulk_upsert_replay(client_w, product):
    url = f"/api/v1/products/{product.pk}/stock-adjustments/"
    for _ in range(3):
        response = client_w.post(url, {"delta": 2, "reason": "delivery"}, format="json", HTTP_IDEMPOTENCY_KEY="d-1")
        assert response.status_code == 201 and response.json()["stock_after"] == 7
    product.refresh_from_db()
    assert product.stock == 7 and StockAdjustment.objects.count() == 1
    rows = {"rows": [{"sku": "NEW", "title": "New", "price": "1.00"}]}
    for _ in range(2):
        response = client_w.post("/api/v1/products/bulk-upsert/", rows, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
        assert response.json()["created"] == 1
    assert Product.objects.filter(sku="NEW").count() == 1


def test_without_a_key_requests_are_not_deduplicated(client_w, product):
    url = f"/api/v1/products/{product.pk}/stock-adjustments/"
    client_w.post(url, {"delta": 1, "reason": "a"}, format="json")
    client_w.post(url, {"delta": 1, "reason": "a"}, format="json")
    assert StockAdjustment.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_bad_idempotency_keys_are_400(client_w, key):
    response = client_w.post("/api/v1/products/", BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Product.objects.exists()


def test_throttling_per_key(settings, merchant, client_w):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "3/min"}}
    for _ in range(3):
        assert client_w.get("/api/v1/products/").status_code == 200
    throttled = client_w.get("/api/v1/products/")
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert throttled.json()["error"]["code"] == "throttled"
    # the limit is per key: another key still gets through
    assert keyed_client(merchant).get("/api/v1/products/").status_code == 200


def test_docs_and_schema_are_served_locally(db):
    client = APIClient()
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower() and "https://" not in html
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    for path, item in spec["paths"].items():
        if not path.startswith(("/api/v1/products", "/api/v1/orders", "/api/v1/categories", "/api/v1/suppliers",
                                "/api/v1/inventory-defaults", "/api/v1/purchase-orders", "/api/v1/forecasts",
                                "/api/v1/reorder-suggestions")):
            continue
        for method, operation in item.items():
            for status in ("400", "401", "403", "404", "429"):
                content = operation["responses"][status]["content"]["application/json"]["schema"]
                assert content == {"$ref": "#/components/schemas/ApiError"}, (method, path, status)
    assert "Idempotency-Key" in {p["name"] for p in spec["paths"]["/api/v1/products/"]["post"]["parameters"]}
    receive = spec["paths"]["/api/v1/purchase-orders/{id}/receive/"]["post"]["parameters"]
    assert {"name": "Idempotency-Key", "required": True} in [{k: p[k] for k in ("name", "required")} for p in receive]
