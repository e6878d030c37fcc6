"""Every row-locking query of the shop, in one place (Saleor's `lock_objects` style).

Callers must be inside `transaction.atomic()`. Rows of one table are always locked in ascending
primary-key order so that two transactions wanting overlapping rows cannot deadlock. When a
transaction needs several kinds of rows, it takes them in this order: basket, order (or purchase order),
order parts, products.
On SQLite `select_for_update` is a no-op; writes are serialised by the database lock instead.
"""
from __future__ import annotations

from collections.abc import Iterable

from shop.models import Basket, Merchant, Order, OrderPart, Product, PurchaseOrder


def lock_basket(basket_id: int) -> Basket | None:
    return Basket.objects.select_for_update().filter(pk=basket_id).first()


def lock_order(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def lock_order_parts(order_id: int) -> dict[int, OrderPart]:
    """The order's parts (one per merchant), locked in id order, keyed by merchant id. Lock the order first."""
    parts = OrderPart.objects.select_for_update().filter(order_id=order_id).order_by("pk")
    return {part.merchant_id: part for part in parts}


def lock_products(product_ids: Iterable[int]) -> dict[int, Product]:
    """The products with these ids, locked in id order; missing ids are absent from the result."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    products = Product.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {product.pk: product for product in products}


def lock_product(product_id: int) -> Product:
    """One product, locked; raises Product.DoesNotExist."""
    return Product.objects.select_for_update().get(pk=product_id)


def lock_merchant_products_by_sku(merchant: Merchant, skus: Iterable[str]) -> dict[str, Product]:
    """The merchant's products with these SKUs, locked in id order, keyed by SKU."""
    products = Product.objects.select_for_update().filter(merchant=merchant, sku__in=set(skus)).order_by("pk")
    return {product.sku: product for product in products}


def lock_purchase_order(order_id: int) -> PurchaseOrder:
    """One purchase order, locked; raises PurchaseOrder.DoesNotExist."""
    return PurchaseOrder.objects.select_for_update().get(pk=order_id)
