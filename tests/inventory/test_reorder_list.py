"""Reorder and overstock lists from the live forecast and the shop's stock."""
from __future__ import annotations

import pytest

from shop.models import PurchaseOrder
from shop.services import purchasing, replenishment

pytestmark = pytest.mark.slow


def test_reorder_list_holds_products_at_or_below_their_reorder_point(forecast_shop):
    merchant, supplier, products = forecast_shop
    rows = replenishment.reorder_list(merchant)
    assert [row.product for row in rows] == [products[0]]
    row = rows[0]
    # A perfect weekly forecast: 25 units over the 6 open days of a 7-day lead time, no safety stock.
    assert row.plan.reorder_point == 25.0 and row.plan.safety_stock == 0
    # Order up to lead time + a 7-day review: 50 units; 10 in stock -> 40 -> 7 packs of 6.
    assert row.plan.suggested_quantity == 42
    assert row.settings.supplier == supplier and row.urgency_days is not None and row.urgency_days < 0
    assert row.stockout_date is not None


def test_what_is_on_order_takes_a_product_off_the_list(forecast_shop):
    merchant, supplier, products = forecast_shop
    orders = purchasing.orders_from_suggestions(
        [(row.settings.supplier, row.product.pk, row.plan.suggested_quantity) for row in replenishment.reorder_list(merchant)]
    )
    assert len(orders) == 1 and PurchaseOrder.objects.get().lines.get().quantity == 42
    assert replenishment.reorder_list(merchant) == []


def test_overstock_lists_stock_covering_more_than_the_merchants_days(forecast_shop):
    merchant, supplier, products = forecast_shop
    rows = replenishment.overstock_list(merchant)
    # 500 units at ~1.5 a day last far beyond 60 days; 10 units of the weekly product do not.
    assert [row.product for row in rows] == [products[1]]
    assert rows[0].capital == products[1].price * 500


def test_no_live_forecast_means_empty_lists(db):
    assert replenishment.reorder_list() == [] and replenishment.overstock_list() == []
