"""The order status pipeline: allowed transitions, each one recorded with who, when and why.

    pending ──► paid ──► shipped ──► delivered
       │          │          │            │
       └► cancelled ◄┘       └──► refunded ◄┘   (refunded also from paid)

Cancelling (from pending or paid) puts the stock back and takes the units off `units_sold`.
A refund does not restock: the goods may be with the customer; returns are booked as stock
adjustments by whoever receives them.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shop.exceptions import ForbiddenTransition
from shop.models import Order, OrderLine, OrderStatus, OrderStatusChange
from shop.services import locks, stock

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.REFUNDED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED, OrderStatus.REFUNDED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}

# Crockford's base-32 alphabet: no I, L, O or U, so numbers read out over the phone are unambiguous.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def generate_order_number(when: datetime | None = None) -> str:
    """A readable number such as "AI-261129-7K3F9Q": the date, then 30 random bits.

    Uniqueness is enforced by the database; `place_order` retries on the (about one in a
    billion per day) collision.
    """
    when = timezone.localtime(when or timezone.now())
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(6))
    return f"AI-{when:%y%m%d}-{suffix}"


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in ALLOWED_TRANSITIONS.get(from_status, frozenset())


def record_status_change(
    order: Order, from_status: str, to_status: str, *, user=None, actor: str = "", note: str = "", at: datetime | None = None
) -> OrderStatusChange:
    changed_by = user if user is not None and getattr(user, "is_authenticated", False) else None
    return OrderStatusChange.objects.create(
        order=order,
        from_status=from_status,
        to_status=to_status,
        changed_by=changed_by,
        actor=actor[:200],
        note=note[:500],
        changed_at=at or timezone.now(),
    )


def _restock(order: Order) -> None:
    quantities: dict[int, int] = {}
    for product_id, quantity in OrderLine.objects.filter(order=order, product__isnull=False).values_list(
        "product_id", "quantity"
    ):
        quantities[product_id] = quantities.get(product_id, 0) + quantity
    stock.return_stock(quantities)


def transition(order: Order, to_status: str, *, user=None, actor: str = "", note: str = "") -> Order:
    """Move `order` to `to_status`, or raise ForbiddenTransition. Returns the updated order.

    The order row is locked for the whole change, so two admins (or an admin and the API) cannot
    both cancel it and restock twice. `order` itself is updated too.
    """
    with transaction.atomic():
        locked = locks.lock_order(order.pk)
        from_status = locked.status
        if not can_transition(from_status, to_status):
            raise ForbiddenTransition(locked, from_status, to_status)
        if to_status == OrderStatus.CANCELLED:
            _restock(locked)
        now = timezone.now()
        locked.status = to_status
        locked.updated_at = now
        Order.objects.filter(pk=locked.pk).update(status=to_status, updated_at=now)
        record_status_change(locked, from_status, to_status, user=user, actor=actor, note=note, at=now)
    order.status = locked.status
    order.updated_at = locked.updated_at
    return locked


RELEASE_BATCH = 500


def release_unpaid_orders(*, older_than: timedelta | None = None, now: datetime | None = None) -> list[str]:
    """Cancel pending (unpaid) orders placed more than `older_than` ago, restocking them; their numbers.

    Each order is cancelled through `transition`, which locks it and re-reads its status: an order paid
    or cancelled meanwhile (or by a concurrent run of this sweep) is skipped, so running it twice, or
    on two workers at once, releases every order's stock exactly once.
    """
    if older_than is None:
        older_than = timedelta(hours=settings.SHOP_UNPAID_ORDER_TTL_HOURS)
    cutoff = (now or timezone.now()) - older_than
    hours = older_than.total_seconds() / 3600
    released = []
    candidates = Order.objects.filter(status=OrderStatus.PENDING, placed_at__lt=cutoff).order_by("placed_at", "pk")
    for order in candidates[:RELEASE_BATCH]:
        try:
            transition(order, OrderStatus.CANCELLED, actor="stock release",
                       note=f"Not paid within {hours:g} hours: cancelled and the stock released.")
        except ForbiddenTransition:
            continue
        released.append(order.number)
    return released
