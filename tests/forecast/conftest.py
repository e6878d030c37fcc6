from __future__ import annotations

from datetime import date, timedelta

import pytest

from ai import registry

START = date(2024, 1, 1)  # a Monday
WEEKLY = [5, 3, 3, 4, 8, 0, 2]  # Monday .. Sunday; Saturday closed


def open_days(weeks: int, start: date = START) -> list[date]:
    days = [start + timedelta(days=n) for n in range(7 * weeks)]
    return [d for d in days if d.weekday() != 5]


def generated_sales(weeks: int = 12) -> list[tuple[date, str, float]]:
    """Three products: 'weekly' repeats WEEKLY exactly, 'lumpy' sells 6 every fourth open day, 'new' started
    in the last week; plus a return of 'weekly' (never subtracted)."""
    days = open_days(weeks)
    rows = [(d, "weekly", WEEKLY[d.weekday()]) for d in days if WEEKLY[d.weekday()]]
    rows += [(d, "lumpy", 6) for i, d in enumerate(days) if i % 4 == 0]
    rows += [(d, "new", 2) for d in days[-5:]]
    rows.append((days[10], "weekly", -2))
    return rows


@pytest.fixture
def artifact_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    registry.clear_cache()
    yield settings.MEDIA_ROOT
    registry.clear_cache()
