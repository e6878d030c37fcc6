"""The one place that writes a product's stock: the stock ledger service.

Every stock change goes through here, under the product row lock (`shop.services.locks`):

- `adjust_stock(product, delta, reason)`: add or remove units (a delivery, a count, damage, a
  purchase order received), recorded as a `StockAdjustment`;
- `set_stock(product, level, reason)` / `set_stock_levels({id: level}, reason)`: set the level
  outright (the admin, bulk upsert, a new product's opening stock), recorded as the difference;
- `take_stock({id: qty})` and `return_stock({id: qty})`: a sale at checkout and its cancellation,
  which also move `units_sold`; they are recorded by the order's lines, not in the ledger.

Nothing else may write `Product.stock`: a full-row `save()` of a product read earlier would write
back a stale level and undo the sales made since (the lost update).

Idempotency: `adjust_stock` and `set_stock` take an optional `reference` (e.g. "po:42:line:7" for a
purchase-order line received). A product's ledger holds each non-empty reference at most once (a
unique constraint), and the lookup happens under the product lock: a retry with the same reference
(a double click, a redelivered task) returns the adjustment already recorded and changes nothing.
"""
from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from shop.exceptions import InsufficientStock, ProductUnavailable, ShopError
from shop.models import ApiKey, Product, StockAdjustment
from shop.services import locks


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


def _product_id(product: Product | int) -> int:
    return product.pk if isinstance(product, Product) else int(product)


def _already_recorded(product_id: int, reference: str) -> StockAdjustment | None:
    if not reference:
        return None
    return StockAdjustment.objects.filter(product_id=product_id, reference=reference).first()


def _sync(product: Product | int, stock: int) -> None:
    """Keep the caller's instance true to the row (it must never save a stale level back)."""
    if isinstance(product, Product):
        product.stock = stock


def adjust_stock(
    product: Product | int,
    delta: int,
    reason: str,
    *,
    api_key: ApiKey | None = None,
    user=None,
    reference: str = "",
) -> StockAdjustment:
    """Add `delta` (negative to remove) to the stock; raises StockBelowZero rather than go below 0.

    With a `reference` already in this product's ledger, returns that adjustment and changes nothing.
    """
    product_id = _product_id(product)
    with transaction.atomic():
        locked = locks.lock_product(product_id)
        if (done := _already_recorded(product_id, reference)) is not None:
            _sync(product, locked.stock)
            return done
        if locked.stock + delta < 0:
            raise StockBelowZero(locked, delta)
        stock_after = locked.stock + delta
        Product.objects.filter(pk=product_id).update(stock=F("stock") + delta, updated_at=timezone.now())
        adjustment = StockAdjustment.objects.create(
            product_id=product_id, delta=delta, stock_after=stock_after, reason=reason[:200],
            api_key=api_key, user=user if getattr(user, "is_authenticated", False) else None, reference=reference,
        )
    _sync(product, stock_after)
    return adjustment


def set_stock(
    product: Product | int,
    level: int,
    reason: str,
    *,
    api_key: ApiKey | None = None,
    user=None,
    reference: str = "",
) -> StockAdjustment | None:
    """Set the stock to `level` (≥ 0), booking the difference from the level under the lock.

    Returns the ledger entry, or None when the level was already `level`.
    """
    if level < 0:
        raise StockBelowZero(Product(pk=_product_id(product), stock=0, sku=getattr(product, "sku", "")), level)
    product_id = _product_id(product)
    with transaction.atomic():
        locked = locks.lock_product(product_id)
        if (done := _already_recorded(product_id, reference)) is not None:
            _sync(product, locked.stock)
            return done
        _sync(product, level)
        delta = level - locked.stock
        if delta == 0:
            return None
        Product.objects.filter(pk=product_id).update(stock=level, updated_at=timezone.now())
        return StockAdjustment.objects.create(
            product_id=product_id, delta=delta, stock_after=level, reason=reason[:200],
            api_key=api_key, user=user if getattr(user, "is_authenticated", False) else None, reference=reference,
        )


def set_stock_levels(
    levels: Mapping[int, int], reason: str, *, api_key: ApiKey | None = None, user=None
) -> list[StockAdjustment]:
    """Set several products' stock at once (bulk upsert): lock in id order, bulk write, one ledger row each."""
    if any(level < 0 for level in levels.values()):
        raise ValueError("Stock levels cannot be negative.")
    with transaction.atomic():
        locked = locks.lock_products(levels)
        now = timezone.now()
        changed = [locked[pk] for pk in sorted(locked) if locked[pk].stock != levels[pk]]
        entries = [
            StockAdjustment(product=p, delta=levels[p.pk] - p.stock, stock_after=levels[p.pk], reason=reason[:200],
                            api_key=api_key, user=user if getattr(user, "is_authenticated", False) else None)
            for p in changed
        ]
        for product in changed:
            product.stock, product.updated_at = levels[product.pk], now
        if changed:
            Product.objects.bulk_update(changed, ["stock", "updated_at"], batch_size=500)
        return StockAdjustment.objects.bulk_create(entries)


def take_stock(quantities: Mapping[int, int]) -> dict[int, Product]:
    """A sale: lock the products in id order, check every line, then decrement stock and raise units_sold.

    Must run inside the caller's transaction (checkout). Raises ProductUnavailable (a product gone or
    deactivated) or InsufficientStock (more asked than left) before writing anything. Returns the
    locked products as read (their stock before the sale), for the order's price snapshot.
    """
    products = locks.lock_products(quantities)
    for product_id, quantity in sorted(quantities.items()):
        product = products.get(product_id)
        if product is None or not product.is_active:
            title = f"“{product.title}”" if product else "A product in your basket"
            raise ProductUnavailable(
                f"Sorry, {title} is no longer available: please remove it from your basket.", product_id=product_id
            )
        if quantity > product.stock:
            raise InsufficientStock(product, quantity, product.stock)
    for product_id, quantity in sorted(quantities.items()):
        # The row is locked, so this cannot fail; the guard keeps it safe on databases without row locks.
        updated = Product.objects.filter(pk=product_id, stock__gte=quantity).update(
            stock=F("stock") - quantity, units_sold=F("units_sold") + quantity
        )
        if updated != 1:
            product = Product.objects.get(pk=product_id)
            raise InsufficientStock(product, quantity, product.stock)
    return products


def return_stock(quantities: Mapping[int, int]) -> None:
    """Undo a sale (cancellation): put the units back and take them off units_sold, under the row locks."""
    for product_id in locks.lock_products(quantities):
        quantity = quantities[product_id]
        Product.objects.filter(pk=product_id).update(
            stock=F("stock") + quantity,
            # Orders imported without bumping units_sold must not drive it below zero.
            units_sold=Greatest(F("units_sold") - quantity, Value(0)),
        )
