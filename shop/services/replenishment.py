"""Reorder suggestions and overstock, from the live demand forecast (ai) and the shop's stock.

The maths is ai's (`ai.forecast.reorder`, through `ai.forecast.service.reorder_plan`); this module
brings the shop's side: stock, units on order, each product's settings or its merchant's defaults.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from ai.forecast import service as forecasts
from ai.forecast.reorder import ReorderPlan
from shop.models import InventoryDefaults, Merchant, Product, Supplier
from shop.services.purchasing import on_order


@dataclass(frozen=True)
class ProductSettings:
    supplier: Supplier | None
    lead_time_days: int
    service_level: float
    review_days: int
    min_order_qty: int
    pack_size: int
    overstock_days: int
    unit_cost: Decimal


@dataclass
class Suggestion:
    product: Product
    settings: ProductSettings
    stock: int
    on_order: int
    plan: ReorderPlan
    stockout_date: date | None
    cover_days: float | None  # calendar days of cover from the forecast origin; None: never runs out
    model: str
    origin: date

    @property
    def urgency_days(self) -> float | None:
        """Calendar days between the projected stock-out and the arrival of an order placed now."""
        return None if self.cover_days is None else self.cover_days - self.settings.lead_time_days

    @property
    def due(self) -> bool:
        return self.stock + self.on_order <= self.plan.reorder_point

    @property
    def capital(self) -> Decimal:
        return self.settings.unit_cost * self.stock


def _defaults(merchant_ids) -> dict[int, InventoryDefaults]:
    ids = set(merchant_ids)
    found = {d.merchant_id: d for d in InventoryDefaults.objects.filter(merchant_id__in=ids)}
    return {mid: found.get(mid) or InventoryDefaults(merchant_id=mid) for mid in ids}


def product_settings(product: Product, defaults: InventoryDefaults) -> ProductSettings:
    inventory = getattr(product, "inventory", None) if hasattr(product, "inventory") else None

    def pick(name):
        value = getattr(inventory, name, None) if inventory is not None else None
        return getattr(defaults, name) if value is None else value

    supplier = inventory.supplier if inventory is not None else None
    lead = pick("lead_time_days")
    if inventory is not None and inventory.lead_time_days is None and supplier is not None and supplier.lead_time_days is not None:
        lead = supplier.lead_time_days
    unit_cost = inventory.unit_cost if inventory is not None and inventory.unit_cost is not None else product.price
    return ProductSettings(
        supplier=supplier,
        lead_time_days=int(lead),
        service_level=float(pick("service_level")),
        review_days=int(defaults.review_days),
        min_order_qty=int(pick("min_order_qty")),
        pack_size=int(pick("pack_size")),
        overstock_days=int(defaults.overstock_days),
        unit_cost=Decimal(unit_cost),
    )


def _products(merchant: Merchant | None, product_ids=None) -> QuerySet[Product]:
    products = Product.objects.filter(is_active=True).select_related("merchant", "inventory", "inventory__supplier")
    if merchant is not None:
        products = products.filter(merchant=merchant)
    if product_ids is not None:
        products = products.filter(pk__in=list(product_ids))
    return products.order_by("pk")


def evaluate(merchant: Merchant | None = None, product_ids=None) -> list[Suggestion]:
    """A Suggestion for every active product with a forecast (of one merchant, or all)."""
    live = forecasts.live_forecasts()
    if live is None:
        return []
    products = [p for p in _products(merchant, product_ids) if p.pk in live]
    defaults = _defaults(p.merchant_id for p in products)
    ordered = on_order(p.pk for p in products)
    rows = []
    for product in products:
        forecast = live.get(product.pk)
        if forecast is None:  # not in the live forecast (e.g. a product added since)
            continue
        settings = product_settings(product, defaults[product.merchant_id])
        plan = forecasts.reorder_plan(
            forecast, stock=product.stock, on_order=ordered.get(product.pk, 0), lead_time_days=settings.lead_time_days,
            service_level=settings.service_level, review_days=settings.review_days, minimum=settings.min_order_qty,
            pack_size=settings.pack_size, unit_price=float(product.price),
        )
        stockout = forecasts.date_after_open_days(forecast, plan.days_of_cover)
        cover = None if stockout is None else float((stockout - forecast.days[0]).days) if forecast.days else None
        rows.append(Suggestion(product, settings, product.stock, ordered.get(product.pk, 0), plan, stockout, cover, forecast.model, live.origin))  # type: ignore[arg-type]  # a live forecast has its origin
    return rows


def _urgency_key(row: Suggestion):
    urgency = row.urgency_days
    return (math.inf if urgency is None else urgency, -row.plan.revenue_at_risk_per_day, row.product.pk)


def reorder_list(merchant: Merchant | None = None, product_ids=None) -> list[Suggestion]:
    """Products at or below their reorder point (stock plus on order), most urgent first, then by
    revenue at risk per day."""
    return sorted((row for row in evaluate(merchant, product_ids) if row.due), key=_urgency_key)


def overstock_list(merchant: Merchant | None = None, days: int | None = None) -> list[Suggestion]:
    """Products whose stock covers more than `days` (default: the merchant's overstock_days) of forecast
    demand, most capital tied up first."""
    rows = []
    for row in evaluate(merchant):
        limit = days if days is not None else row.settings.overstock_days
        if row.stock > 0 and (row.cover_days is None or row.cover_days > limit):
            rows.append(row)
    return sorted(rows, key=lambda row: (-row.capital, row.product.pk))
