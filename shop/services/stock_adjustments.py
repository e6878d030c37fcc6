"""Explicit stock adjustments with a reason, recorded in the StockAdjustment ledger."""
from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from shop.exceptions import ShopError
from shop.models import ApiKey, Product, StockAdjustment
from shop.services.locks import lock_product


class StockBelowZero(ShopError):
    code = "stock_below_zero"
    http_status = 409

    def __init__(self, product: Product, delta: int) -> None:
        self.product = product
        self.delta = delta
        super().__init__(
            f"Stock of {product.sku} cannot go below 0: {product.stock} in stock, adjustment {delta:+d}.",
            fields={"delta": [f"At least {-product.stock} (there are {product.stock} in stock)."]},
        )


def adjust_stock(
    product_id: int, delta: int, reason: str, *, api_key: ApiKey | None = None, user=None
) -> StockAdjustment:
    """Add `delta` (may be negative) to the product's stock; never below zero. Locks the product row."""
    with transaction.atomic():
        product = lock_product(product_id)
        if product.stock + delta < 0:
            raise StockBelowZero(product, delta)
        Product.objects.filter(pk=product.pk).update(stock=F("stock") + delta, updated_at=timezone.now())
        stock_after = Product.objects.values_list("stock", flat=True).get(pk=product.pk)
        return StockAdjustment.objects.create(
            product=product, delta=delta, stock_after=stock_after, reason=reason, api_key=api_key, user=user
        )


def record_set_stock(
    product: Product, old_stock: int, reason: str, *, api_key: ApiKey | None = None, user=None
) -> StockAdjustment | None:
    """Ledger entry for a stock level set outright (product creation, bulk upsert); none if unchanged."""
    if product.stock == old_stock:
        return None
    return StockAdjustment.objects.create(
        product=product, delta=product.stock - old_stock, stock_after=product.stock, reason=reason,
        api_key=api_key, user=user,
    )
