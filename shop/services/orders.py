"""The order status pipeline: allowed transitions, each one recorded with who, when and why.

    pending ──► paid ──► shipped ──► delivered
       │          │          │            │
       └► cancelled ◄┘       └──► refunded ◄┘   (refunded also from paid)

Each merchant's share of an order (an `OrderPart`) moves through this pipeline on its own; the
order's status is derived from its parts. Cancelling a part (from pending or paid) puts the stock of
that merchant's lines back and takes the units off `units_sold`.
A refund does not restock: the goods may be with the customer; returns are booked as stock
adjustments by whoever receives them.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shop.exceptions import ForbiddenTransition
from shop.models import Order, OrderLine, OrderPart, OrderStatus, OrderStatusChange
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

    Uniqueness is enforced by the database; `place_order` draws again on a collision (two
    orders on the same day share a suffix with probability 2**-30).
    """
    when = timezone.localtime(when or timezone.now())
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(6))
    return f"AI-{when:%y%m%d}-{suffix}"


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in ALLOWED_TRANSITIONS.get(from_status, frozenset())


def record_status_change(
    order: Order, from_status: str, to_status: str, *, user=None, actor: str = "", note: str = "",
    at: datetime | None = None, merchant_id: int | None = None,
) -> OrderStatusChange:
    changed_by = user if user is not None and getattr(user, "is_authenticated", False) else None
    return OrderStatusChange.objects.create(
        order=order,
        merchant_id=merchant_id,
        from_status=from_status,
        to_status=to_status,
        changed_by=changed_by,
        actor=actor[:200],
        note=note[:500],
        changed_at=at or timezone.now(),
    )


# How far along the pipeline each live status is: an order is as far along as its least advanced part.
_PROGRESS: dict[str, int] = {OrderStatus.PENDING: 0, OrderStatus.PAID: 1, OrderStatus.SHIPPED: 2, OrderStatus.DELIVERED: 3}
FINAL = frozenset({OrderStatus.CANCELLED, OrderStatus.REFUNDED})


def derive_status(part_statuses: Iterable[str]) -> str:
    """The order's status from its parts' statuses.

    All cancelled: cancelled. Otherwise cancelled parts are left out: all the rest refunded: refunded;
    else the least advanced of the parts still in the pipeline (a refunded part counts as done).
    """
    statuses = list(part_statuses)
    live = [status for status in statuses if status != OrderStatus.CANCELLED]
    if not live:
        return OrderStatus.CANCELLED
    moving = [status for status in live if status != OrderStatus.REFUNDED]
    if not moving:
        return OrderStatus.REFUNDED
    return min(moving, key=_PROGRESS.__getitem__)


def _locked_parts(order: Order) -> dict[int, OrderPart]:
    """The order's parts by merchant id, locked; a merchant with lines but no part (an imported order)
    gets one with the order's status. The order row must already be locked."""
    merchants = set(OrderLine.objects.filter(order=order).values_list("merchant_id", flat=True))
    parts = locks.lock_order_parts(order.pk)
    missing = sorted(merchants - set(parts))
    if missing:
        OrderPart.objects.bulk_create(OrderPart(order=order, merchant_id=m, status=order.status) for m in missing)
        parts = locks.lock_order_parts(order.pk)
    return parts


def _restock(order: Order, merchant_ids: Iterable[int]) -> None:
    """Put back the stock of these merchants' lines of the order (and only theirs)."""
    quantities: dict[int, int] = {}
    lines = OrderLine.objects.filter(order=order, merchant_id__in=list(merchant_ids), product__isnull=False)
    for product_id, quantity in lines.values_list("product_id", "quantity"):
        quantities[product_id] = quantities.get(product_id, 0) + quantity
    stock.return_stock(quantities)


def _moving_parts(order: Order, parts: dict[int, OrderPart], to_status: str, merchant_ids, only_from) -> list[OrderPart]:
    """The parts this transition moves; raises ForbiddenTransition when one of them cannot move."""
    if merchant_ids is not None:
        targets = [parts[m] for m in sorted(set(merchant_ids)) if m in parts]
        if not targets:
            raise ForbiddenTransition(order, order.status, to_status)
    else:
        # The whole order: parts already over (cancelled, refunded) stay as they are.
        targets = [part for _, part in sorted(parts.items()) if part.status not in FINAL] or list(parts.values())
    if only_from is not None:
        targets = [part for part in targets if part.status == only_from]
    for part in targets:
        if not can_transition(part.status, to_status):
            raise ForbiddenTransition(order, part.status, to_status)
    if not targets:
        raise ForbiddenTransition(order, order.status, to_status)
    return targets


def transition(
    order: Order,
    to_status: str,
    *,
    user=None,
    actor: str = "",
    note: str = "",
    merchant_ids: Iterable[int] | None = None,
    only_from: str | None = None,
) -> Order:
    """Move the parts of `order` of `merchant_ids` (every part when None) to `to_status`; returns the order.

    All or nothing: if one of those parts cannot make the move, ForbiddenTransition and nothing
    changes. Cancelling restocks the moved parts' lines only. `only_from` limits the move to parts in
    that status (the release of unpaid orders cancels only the pending parts). The order row and its
    parts are locked for the whole change, so two admins (or an admin and the API) cannot both cancel
    and restock twice. The order's status is then derived from all its parts; `order` is updated too.
    """
    with transaction.atomic():
        locked = locks.lock_order(order.pk)
        parts = _locked_parts(locked)
        if not parts:  # an order without lines: only its own status
            if not can_transition(locked.status, to_status):
                raise ForbiddenTransition(locked, locked.status, to_status)
            parts_to_move = []
        else:
            parts_to_move = _moving_parts(locked, parts, to_status, merchant_ids, only_from)
        if to_status == OrderStatus.CANCELLED:
            _restock(locked, [part.merchant_id for part in parts_to_move])
        now = timezone.now()
        moved_from = {part.merchant_id: part.status for part in parts_to_move}
        OrderPart.objects.filter(pk__in=[part.pk for part in parts_to_move]).update(status=to_status, updated_at=now)
        for part in parts_to_move:
            part.status = to_status
        from_status = locked.status
        locked.status = derive_status(part.status for part in parts.values()) if parts else to_status
        locked.updated_at = now
        Order.objects.filter(pk=locked.pk).update(status=locked.status, updated_at=now)
        whole = merchant_ids is None and len(set(moved_from.values())) <= 1 and len(moved_from) == len(parts)
        if whole or not parts:
            record_status_change(locked, from_status, to_status, user=user, actor=actor, note=note, at=now)
        else:
            for merchant_id, part_from in moved_from.items():
                record_status_change(locked, part_from, to_status, user=user, actor=actor, note=note, at=now,
                                     merchant_id=merchant_id)
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
            transition(order, OrderStatus.CANCELLED, actor="stock release", only_from=OrderStatus.PENDING,
                       note=f"Not paid within {hours:g} hours: cancelled and the stock released.")
        except ForbiddenTransition:
            continue
        released.append(order.number)
    return released
