"""Which purchases the recommendations earned.

A purchase of a product is attributed to a recommendation click when the same shopper (same visitor id,
or same signed-in user) clicked that product in a recommendation list within the
`AI_ATTRIBUTION_WINDOW_HOURS` before buying it; the latest such click wins, and the purchase counts for
that click's placement and model version. Computed from the events when asked (nothing is stored): one
query, the click found by a correlated subquery per purchase.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import DateTimeField, ExpressionWrapper, F, OuterRef, Q, Subquery

from ai.conf import ai_settings
from ai.models import Event, EventType


@dataclass(frozen=True)
class AttributedPurchase:
    order_id: int | None
    product_id: int
    placement: str
    model_version_id: int | None
    purchased_at: datetime
    clicked_at: datetime
    revenue: Decimal


def window() -> timedelta:
    return timedelta(hours=float(ai_settings.ATTRIBUTION_WINDOW_HOURS))


def _revenue(extra: dict) -> Decimal:
    try:
        return Decimal(str(extra.get("unit_price", "0"))) * int(extra.get("quantity", 1))
    except (InvalidOperation, TypeError, ValueError):
        return Decimal("0")


def attributed_purchases(*, since: datetime | None = None, until: datetime | None = None) -> list[AttributedPurchase]:
    """Purchases (made in [since, until)) that follow a recommendation click within the window."""
    earliest = ExpressionWrapper(OuterRef("created_at") - window(), output_field=DateTimeField())
    clicks = (
        Event.objects.filter(
            event_type=EventType.REC_CLICK,
            shop_wide=True,  # (API clients' events count only with a shop-wide grant)
            product_id=OuterRef("product_id"),
            created_at__lte=OuterRef("created_at"),
            created_at__gte=earliest,
        )
        .filter(Q(visitor_id=OuterRef("visitor_id")) | Q(user_id=OuterRef("user_id")))
        .order_by("-created_at", "-pk")
    )
    purchases = Event.objects.filter(event_type=EventType.PURCHASE, product_id__isnull=False, shop_wide=True)
    if since is not None:
        purchases = purchases.filter(created_at__gte=since)
    if until is not None:
        purchases = purchases.filter(created_at__lt=until)
    rows = (
        purchases.annotate(
            click_pk=Subquery(clicks.values("pk")[:1]),
            click_placement=Subquery(clicks.values("placement")[:1]),
            click_version=Subquery(clicks.values("model_version_id")[:1]),
            click_at=Subquery(clicks.values("created_at")[:1]),
        )
        .filter(click_pk__isnull=False)
        .order_by(F("created_at"), "pk")
        .values_list("extra", "product_id", "click_placement", "click_version", "created_at", "click_at")
    )
    return [
        AttributedPurchase(
            order_id=(extra or {}).get("order_id"),
            product_id=int(product_id),  # type: ignore[arg-type]  # filtered on product_id__isnull=False
            placement=placement or "",
            model_version_id=version,
            purchased_at=purchased_at,
            clicked_at=clicked_at,
            revenue=_revenue(extra or {}),
        )
        for extra, product_id, placement, version, purchased_at, clicked_at in rows
    ]
