"""The daily low-stock e-mail: to every staff member who opted in (a merchant's `InventoryDefaults.low_stock_digest`),
the products of those merchants at or below their reorder point, with the suggested order quantities.

Idempotent per day: each person gets at most one digest a day (`LowStockDigestSent`, unique per user and
day). The record and the sending are one transaction, so a digest that could not be sent is not recorded and
the next run tries again; two runs at once send it once (the second waits on the unique row, then skips).
Someone with nothing due that day gets no e-mail.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from shop.models import InventoryDefaults, LowStockDigestSent, Merchant
from shop.services import replenishment
from shop.services.replenishment import Suggestion


@dataclass
class DigestRun:
    day: date
    sent: list[str] = field(default_factory=list)  # e-mail addresses
    already_sent: list[str] = field(default_factory=list)
    nothing_due: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Digest:
    to: str
    subject: str
    body: str
    products: int


def recipients() -> dict[int, tuple[Any, list[Merchant]]]:
    """{user id: (user, [merchants])} of the active staff with an e-mail address and the permission to see
    products, who opted in to a merchant's digest."""
    wanted: dict[int, tuple[Any, list[Merchant]]] = {}
    defaults = InventoryDefaults.objects.select_related("merchant").prefetch_related("low_stock_digest").order_by("merchant__name")
    for row in defaults:
        for user in row.low_stock_digest.all():
            if user.is_active and user.is_staff and user.email and user.has_perm("shop.view_product"):
                wanted.setdefault(user.pk, (user, []))[1].append(row.merchant)
    return wanted


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _line(row: Suggestion) -> str:
    supplier = f" from {row.settings.supplier.name}" if row.settings.supplier else " (no supplier set)"
    runs_out = f"runs out {row.stockout_date.isoformat()}" if row.stockout_date else "does not run out within the forecast"
    return (
        f"- {row.product.sku} {row.product.title}\n"
        f"  stock {row.stock}, on order {row.on_order}, reorder point {_number(row.plan.reorder_point)}, "
        f"order up to {_number(row.plan.order_up_to)}\n"
        f"  order {row.plan.suggested_quantity}{supplier}; {runs_out}, lead time {row.settings.lead_time_days} days"
    )


def compose(user, sections: list[tuple[Merchant, list[Suggestion]]], day: date) -> Digest | None:
    """The e-mail for one person, or None when none of their merchants has a product due."""
    sections = [(merchant, rows) for merchant, rows in sections if rows]
    count = sum(len(rows) for _, rows in sections)
    if not count:
        return None
    noun = "product is" if count == 1 else "products are"
    parts = [f"{count} {noun} at or below the reorder point on {day.isoformat()}."]
    for merchant, rows in sections:
        parts.append(f"{merchant.name}\n" + "\n".join(_line(row) for row in rows))
    parts.append(f"The reorder list, to create the purchase orders: {reverse('admin:shop_purchaseorder_reorder')}")
    subject = f"Low stock: {count} product{'s' if count != 1 else ''} to reorder ({day.isoformat()})"
    return Digest(to=user.email, subject=subject, body="\n\n".join(parts) + "\n", products=count)


def send_digests(day: date | None = None, *, dry_run: bool = False) -> tuple[DigestRun, list[Digest]]:
    """Send today's digests (or `day`'s) to everyone who opted in and has not had one that day."""
    day = day or timezone.localdate()
    run = DigestRun(day)
    digests: list[Digest] = []
    lists: dict[int, list[Suggestion]] = {}
    for user, merchants in recipients().values():
        if LowStockDigestSent.objects.filter(user=user, day=day).exists():
            run.already_sent.append(user.email)
            continue
        for merchant in merchants:
            if merchant.pk not in lists:
                lists[merchant.pk] = replenishment.reorder_list(merchant)
        digest = compose(user, [(m, lists[m.pk]) for m in merchants], day)
        if digest is None:
            run.nothing_due.append(user.email)
            continue
        digests.append(digest)
        if dry_run:
            continue
        if _send_once(user, day, digest):
            run.sent.append(digest.to)
        else:
            run.already_sent.append(digest.to)
    return run, digests


def _send_once(user, day: date, digest: Digest) -> bool:
    """Record and send in one transaction; False when another run recorded this day's digest first."""
    try:
        with transaction.atomic():
            LowStockDigestSent.objects.create(user=user, day=day, products=digest.products)
            EmailMessage(digest.subject, digest.body, settings.DEFAULT_FROM_EMAIL, [digest.to]).send()
    except IntegrityError:
        return False
    return True

