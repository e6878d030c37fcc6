"""Recommendation performance per placement and model version (A/B arms are versions): impressions,
clicks, click-through rate, attributed orders and revenue, in total and per day.

An impression is one list seen by a shopper (the beacon sends one `rec_impression` per list in view), so
CTR = clicks / lists seen. Three queries whatever the period: the impressions and clicks counted in SQL
per day, placement, version and type; the attributed purchases (`attribution.attributed_purchases`);
the versions' labels.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from ai.models import Event, EventType, ModelVersion

from .attribution import attributed_purchases

Key = tuple[str, int | None]  # (placement, model version id)


@dataclass
class Figures:
    impressions: int = 0
    clicks: int = 0
    orders: set = field(default_factory=set)
    revenue: Decimal = Decimal("0")

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None

    @property
    def ctr_percent(self) -> float | None:
        return None if self.ctr is None else 100.0 * self.ctr

    @property
    def order_count(self) -> int:
        return len(self.orders)


@dataclass
class ArmStats:
    placement: str
    model_version_id: int | None
    label: str
    total: Figures
    daily: dict[date, Figures]


@dataclass
class Performance:
    since: date
    until: date
    rows: list[ArmStats]

    @property
    def days(self) -> list[date]:
        span = (self.until - self.since).days
        return [self.since + timedelta(days=n) for n in range(span + 1)]

    def placements(self) -> list[str]:
        return sorted({row.placement for row in self.rows})

    def for_placement(self, placement: str) -> list[ArmStats]:
        return [row for row in self.rows if row.placement == placement]


def _label(version: Mapping[str, Any] | None) -> str:
    if version is None:
        return "popularity (no trained model)"
    return f"{version['kind']} v{version['version']} ({version['status']})"


def performance(*, days: int = 30, now: datetime | None = None) -> Performance:
    """Figures of the last `days` days (today included), in the current time zone."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    since_day = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(since_day, datetime.min.time()))
    figures: dict[Key, dict[date, Figures]] = defaultdict(lambda: defaultdict(Figures))

    counts = (
        Event.objects.filter(
            event_type__in=[EventType.REC_IMPRESSION, EventType.REC_CLICK], created_at__gte=since, created_at__lte=now,
            shop_wide=True,
        )
        .annotate(day=TruncDate("created_at"))
        .values("day", "placement", "model_version_id", "event_type")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in counts:
        day_figures = figures[(row["placement"], row["model_version_id"])][row["day"]]
        if row["event_type"] == EventType.REC_IMPRESSION:
            day_figures.impressions += row["n"]
        else:
            day_figures.clicks += row["n"]

    for purchase in attributed_purchases(since=since, until=now + timedelta(seconds=1)):
        day = timezone.localtime(purchase.purchased_at).date()
        day_figures = figures[(purchase.placement, purchase.model_version_id)][day]
        day_figures.orders.add(purchase.order_id)
        day_figures.revenue += purchase.revenue

    version_ids = {version for _, version in figures if version is not None}
    versions = {
        v["pk"]: v for v in ModelVersion.objects.filter(pk__in=version_ids).values("pk", "kind", "version", "status")
    }
    rows = []
    for (placement, version_id), daily in sorted(figures.items(), key=lambda item: (item[0][0], item[0][1] or 0)):
        total = Figures()
        for day_figures in daily.values():
            total.impressions += day_figures.impressions
            total.clicks += day_figures.clicks
            total.orders |= day_figures.orders
            total.revenue += day_figures.revenue
        version = versions.get(version_id) if version_id is not None else None
        rows.append(ArmStats(placement, version_id, _label(version), total, dict(daily)))
    return Performance(since=since_day, until=today, rows=rows)
