"""Bulk upsert of a merchant's products by SKU: all rows or none, in one transaction."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from shop.exceptions import ShopError
from shop.models import ApiKey, Merchant, Product, StockAdjustment
from shop.services.locks import lock_merchant_products_by_sku

REQUIRED_FOR_NEW = ("title", "price")


class BulkUpsertRejected(ShopError):
    code = "invalid"

    def __init__(self, row_errors: dict[str, dict[str, list[str]]]) -> None:
        count = len(row_errors)
        super().__init__(
            f"{count} row{'s' if count != 1 else ''} could not be saved; nothing was changed.",
            fields={"rows": row_errors},
        )


@dataclass
class UpsertResult:
    created: list[Product] = field(default_factory=list)
    updated: list[Product] = field(default_factory=list)


def default_slug(title: str) -> str:
    return slugify(title)[:220] or "product"


def bulk_upsert(
    merchant: Merchant, rows: list[dict[str, Any]], *, api_key: ApiKey | None = None, user=None
) -> UpsertResult:
    """Create or update one product per row (rows are validated dicts with a unique `sku` each).

    Existing products are locked first; a row for a new SKU must carry a title and a price, else the
    whole batch is rejected with per-row errors (keyed by row index) and nothing is written.
    """
    result = UpsertResult()
    with transaction.atomic():
        skus = [row["sku"] for row in rows]
        existing = lock_merchant_products_by_sku(merchant, skus)
        errors = {
            str(index): {name: ["Required for a new SKU."] for name in REQUIRED_FOR_NEW if name not in row}
            for index, row in enumerate(rows)
            if row["sku"] not in existing and any(name not in row for name in REQUIRED_FOR_NEW)
        }
        if errors:
            raise BulkUpsertRejected(errors)

        now = timezone.now()
        old_stock: dict[str, int] = {}
        touched: set[str] = set()
        for row in rows:
            product = existing.get(row["sku"])
            if product is None:
                values = {**row}
                values.setdefault("slug", default_slug(row["title"]))
                result.created.append(Product(merchant=merchant, **values))
                continue
            old_stock[product.sku] = product.stock
            for name, value in row.items():
                setattr(product, name, value)
                touched.add(name)
            product.updated_at = now
            result.updated.append(product)

        Product.objects.bulk_create(result.created)
        if result.updated:
            Product.objects.bulk_update(result.updated, sorted(touched | {"updated_at"}), batch_size=500)

        ledger = [
            StockAdjustment(product=p, delta=p.stock, stock_after=p.stock, reason="bulk upsert: new product",
                            api_key=api_key, user=user)
            for p in result.created if p.stock
        ] + [
            StockAdjustment(product=p, delta=p.stock - old_stock[p.sku], stock_after=p.stock,
                            reason="bulk upsert: stock set", api_key=api_key, user=user)
            for p in result.updated if p.stock != old_stock[p.sku]
        ]
        StockAdjustment.objects.bulk_create(ledger)
    return result
