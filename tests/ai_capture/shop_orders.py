"""Real shop orders for the backfill test, written directly (not through checkout, which is not under test)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from shop.models import Order, OrderLine
from tests.factories import ProductFactory

_numbers = count(1)


def make_order(*, user, quantities, status="paid"):
    placed_at = timezone.now().replace(microsecond=0) - timedelta(days=3)
    price = Decimal("4.00")
    total = price * sum(quantities)
    order = Order.objects.create(
        number=f"T{next(_numbers):06d}", user=user, email="buyer@example.com", status=status,
        subtotal=total, total=total, placed_at=placed_at,
    )
    for quantity in quantities:
        product = ProductFactory()
        OrderLine.objects.create(
            order=order, product=product, merchant=product.merchant, sku=product.sku, title=product.title,
            unit_price=price, quantity=quantity, line_total=price * quantity,
        )
    return order
