"""Bulk upsert of a merchant's products by SKU: all rows or none, in one transaction."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from shop.exceptions import ShopError
from shop.models import ApiKey, Merchant, Product
from shop.services.locks import lock_merchant_products_by_sku
from shop.services.stock import set_stock_levels

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
        levels: dict[str, int] = {}
        touched: set[str] = set()
        for row in rows:
            values = {name: value for name, value in row.items() if name != "stock"}
            if "stock" in row:
                levels[row["sku"]] = row["stock"]
            product = existing.get(row["sku"])
            if product is None:
                values.setdefault("slug", default_slug(row["title"]))
                result.created.append(Product(merchant=merchant, stock=0, **values))
                continue
            for name, value in values.items():
                setattr(product, name, value)
                touched.add(name)
            product.updated_at = now
            result.updated.append(product)

        Product.objects.bulk_create(result.created)
        if result.updated:
            Product.objects.bulk_update(result.updated, sorted(touched | {"updated_at"}), batch_size=500)
        # Stock only through the ledger service (locked, recorded), never by writing the rows above.
        for reason, products in (("bulk upsert: new product", result.created), ("bulk upsert: stock set", result.updated)):
            wanted = {p.pk: levels[p.sku] for p in products if p.sku in levels}
            set_stock_levels(wanted, reason, api_key=api_key, user=user)
            for p in products:
                p.stock = levels.get(p.sku, p.stock)
    return result
