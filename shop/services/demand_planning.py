"""Forecasts for the admin's charts: one product's with its reorder plan, and the summed forecasts of
each category and of the whole shop (for planning promotions)."""
from __future__ import annotations

from dataclasses import dataclass

from ai.forecast import service as forecasts
from shop.models import Category, Product
from shop.services.replenishment import Suggestion, evaluate


@dataclass
class ProductForecastView:
    """What a product's forecast chart shows: the forecast, and for an active product its reorder plan."""

    product: Product
    forecast: forecasts.ProductDemand
    suggestion: Suggestion | None


def forecast_with_plan(product: Product) -> ProductForecastView | None:
    """The live forecast of one product with its reorder plan (None: no live forecast for it)."""
    live = forecasts.live_forecasts()
    forecast = live.get(product.pk) if live is not None else None
    if forecast is None:
        return None
    rows = evaluate(product_ids=[product.pk])
    return ProductForecastView(product, forecast, rows[0] if rows else None)


@dataclass(frozen=True)
class GroupForecast:
    """A category's (with its sub-categories) or the shop's summed forecast over the horizon."""

    label: str
    category_id: int | None
    product_ids: list[int]
    units: float  # forecast units over the whole horizon (the sum of the daily means)


def group_forecasts(merchant_ids: list[int] | None = None) -> tuple[GroupForecast | None, list[GroupForecast]]:
    """The shop's summed forecast and each category's (its products and its sub-categories'), for planning
    promotions; categories without a forecast product are left out. Two queries. `merchant_ids` limits the
    sums to those merchants' products (a staff member linked to merchants); None: every merchant."""
    live = forecasts.live_forecasts()
    if live is None:
        return None, []
    products = Product.objects.filter(pk__in=live.product_ids)
    if merchant_ids is not None:
        products = products.filter(merchant_id__in=merchant_ids)
    by_category: dict[int | None, list[int]] = {}
    for pid, category_id in products.values_list("pk", "category_id"):
        by_category.setdefault(category_id, []).append(pid)
    total = _group(live, "Whole shop", None, sorted(pid for ids in by_category.values() for pid in ids))
    categories = list(Category.objects.order_by("path").values_list("pk", "path"))
    paths = dict(categories)
    groups = []
    for category_id, path in categories:
        ids = sorted(
            pid for cid, pids in by_category.items()
            if cid is not None and (paths[cid] == path or paths[cid].startswith(path + "/")) for pid in pids
        )
        if ids:
            groups.append(_group(live, path, category_id, ids))
    return total, groups


def _group(live, label: str, category_id: int | None, product_ids: list[int]) -> GroupForecast:
    rows = [live.index[pid] for pid in product_ids if pid in live]
    return GroupForecast(label, category_id, product_ids, float(live.arrays["mean"][rows].sum()) if rows else 0.0)
