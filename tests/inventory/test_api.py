"""Demand forecasts and reorder suggestions over the merchant API, from a live `demand` version trained on a
known weekly pattern (tests/inventory/conftest.py): exact numbers, and nothing of one merchant for another."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ai.models import ModelVersion
from shop.models import ApiKey
from tests.api.conftest import keyed_client
from tests.factories import MerchantFactory, ProductFactory
from tests.forecast.conftest import WEEKLY

pytestmark = pytest.mark.slow


@pytest.fixture
def api(forecast_shop):
    merchant, supplier, products = forecast_shop
    return keyed_client(merchant, ApiKey.Scope.READ), keyed_client(MerchantFactory(slug="rival"), ApiKey.Scope.WRITE)


def open_days_from(origin: date, calendar_days: int) -> list[date]:
    days = (origin + timedelta(days=n) for n in range(calendar_days))
    return [day for day in days if day.weekday() != 5]  # the demo calendar closes on Saturdays


def stockout(origin: date, stock: float) -> date:
    """The day the weekly pattern, sold from `origin`, uses up `stock` (computed here, not by the service)."""
    sold, day = 0.0, origin
    while True:
        if day.weekday() != 5:
            sold += WEEKLY[day.weekday()]
            if sold >= stock:
                return day
        day += timedelta(days=1)


def test_forecasts_per_product_with_intervals_and_version(forecast_shop, api):
    merchant, supplier, products = forecast_shop
    own, rival = api
    version = ModelVersion.objects.get(kind="demand", status="live").version
    body = own.get("/api/v1/forecasts/").json()
    assert body["count"] == 2
    weekly, lumpy = body["results"]
    assert [weekly["product"], lumpy["product"]] == [p.pk for p in products]
    origin = date.fromisoformat(weekly["origin"])
    assert weekly["model_version"] == version and weekly["sku"] == products[0].sku
    assert weekly["model"] in {"seasonal_naive", "window_average", "croston_sba"} or weekly["model"].startswith("ensemble")
    horizon = weekly["horizon_days"]
    assert [day["date"] for day in weekly["days"]] == [d.isoformat() for d in open_days_from(origin, horizon)]
    # The weekly pattern is forecast exactly; every interval holds the point forecast.
    assert [day["mean"] for day in weekly["days"]] == [float(WEEKLY[d.weekday()]) for d in open_days_from(origin, horizon)]
    for day in weekly["days"] + lumpy["days"]:
        assert day["lo95"] <= day["lo80"] <= day["mean"] <= day["hi80"] <= day["hi95"], day

    week = own.get(f"/api/v1/forecasts/?product={products[0].pk}&horizon=7").json()
    assert week["count"] == 1
    assert [day["date"] for day in week["results"][0]["days"]] == [d.isoformat() for d in open_days_from(origin, 7)]
    assert week["results"][0]["horizon_days"] == 7 and week["results"][0]["days"] == weekly["days"][:6]

    too_long = own.get(f"/api/v1/forecasts/?horizon={horizon + 1}")
    assert too_long.status_code == 400
    assert too_long.json()["error"]["message"] == (
        f"The horizon can be at most {horizon} days: demand v{version} forecasts {horizon} days from {origin}.")
    never_sold = ProductFactory(merchant=merchant)
    none = own.get(f"/api/v1/forecasts/?product={never_sold.pk}")
    assert none.status_code == 404 and none.json()["error"] == {
        "code": "no_forecast", "fields": {},
        "message": f"Product {never_sold.pk} ({never_sold.sku}) has no forecast: it had no sales before demand v{version} was trained.",
    }
    assert own.get("/api/v1/forecasts/?product=abc").status_code == 400

    # Another merchant sees none of it.
    assert rival.get("/api/v1/forecasts/").json()["count"] == 0
    theirs = rival.get(f"/api/v1/forecasts/?product={products[0].pk}")
    assert theirs.status_code == 404 and theirs.json()["error"]["message"] == f"You have no product with id {products[0].pk}."


def test_reorder_suggestions_with_exact_numbers(forecast_shop, api):
    merchant, supplier, products = forecast_shop
    own, rival = api
    due = own.get("/api/v1/reorder-suggestions/?due=true").json()
    assert due["count"] == 1
    row = due["results"][0]
    origin = date.fromisoformat(row["forecast_origin"])
    out = stockout(origin, 10)
    cover = float((out - origin).days)
    # 25 units over the 6 open days of a 7-day lead time, no safety stock (a perfect forecast); order up to
    # lead time + a 7-day review (50 units): 40 from 10 in stock -> 7 packs of 6.
    assert {k: v for k, v in row.items() if k not in ("model", "title")} == {
        "product": products[0].pk, "sku": products[0].sku, "supplier": supplier.pk, "stock": 10, "on_order": 0,
        "lead_time_days": 7, "service_level": 0.95, "reorder_point": 25.0, "order_up_to": 50.0, "safety_stock": 0.0,
        "days_of_cover": cover, "stockout_date": out.isoformat(), "urgency_days": cover - 7, "suggested_quantity": 42,
        "due": True, "revenue_at_risk_per_day": row["revenue_at_risk_per_day"], "forecast_origin": origin.isoformat(),
    }
    everything = own.get("/api/v1/reorder-suggestions/").json()
    assert [(r["product"], r["due"], r["suggested_quantity"]) for r in everything["results"]] == [
        (products[0].pk, True, 42), (products[1].pk, False, 0)]
    assert own.get("/api/v1/reorder-suggestions/?due=false").json()["count"] == 1

    # An order placed for the suggestion takes the product off the list (stock plus on order above the point).
    writer = keyed_client(merchant, ApiKey.Scope.WRITE)
    created = writer.post("/api/v1/purchase-orders/", {"supplier": supplier.pk, "lines": [
        {"product": products[0].pk, "quantity": 42}]}, format="json")
    assert created.status_code == 201
    assert own.get("/api/v1/reorder-suggestions/?due=true").json()["count"] == 0
    after = own.get(f"/api/v1/reorder-suggestions/?product={products[0].pk}").json()["results"][0]
    assert (after["on_order"], after["due"], after["suggested_quantity"]) == (42, False, 0)

    assert rival.get("/api/v1/reorder-suggestions/").json()["count"] == 0
    assert rival.get(f"/api/v1/reorder-suggestions/?product={products[0].pk}").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/forecasts/", "/api/v1/reorder-suggestions/"])
def test_queries_per_page_do_not_grow_with_products(forecast_shop, api, path):
    own, _ = api
    merchant, supplier, products = forecast_shop
    assert own.get(path).json()["count"] == 2

    def queries(page_size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert len(own.get(f"{path}?page_size={page_size}").json()["results"]) == page_size
        return len(captured)

    assert queries(1) == queries(2)
