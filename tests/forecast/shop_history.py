"""A small real order history in the shop's tables: daily orders for a few products over some weeks."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from shop.models import Order, OrderLine, OrderStatus

from .conftest import WEEKLY, open_days

_numbers = count(1)


def place(product, day, quantity, status=OrderStatus.DELIVERED) -> Order:
    placed_at = timezone.make_aware(datetime.combine(day, time(11, 0)))
    total = product.price * quantity
    order = Order.objects.create(
        number=f"F{next(_numbers):07d}", email="buyer@example.com", status=status,
        subtotal=total, total=total, placed_at=placed_at,
    )
    OrderLine.objects.create(
        order=order, product=product, merchant=product.merchant, sku=product.sku, title=product.title,
        unit_price=product.price, quantity=quantity, line_total=product.price * quantity,
    )
    return order


def weekly_history(products, weeks: int = 10, end=None):
    """products[0] sells WEEKLY's units each open day; products[1] sells 3 every other open day, from the
    end of the first week (so both series are long enough to backtest). Returns the open days used."""
    end = end or timezone.localdate() - timedelta(days=1)
    start = end - timedelta(days=7 * weeks - 1)
    days = open_days(weeks, start)
    for i, day in enumerate(days):
        if WEEKLY[day.weekday()]:
            place(products[0], day, WEEKLY[day.weekday()])
        if len(products) > 1 and i >= 6 and i % 2 == 0:
            place(products[1], day, 3)
    return days


__all__ = ["place", "weekly_history", "Decimal", "OrderStatus"]
