"""Series building: demand per open day, returns apart, closed days dropped."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from ai.forecast.io import read_sales
from ai.forecast.series import SeriesError, ShopCalendar, build_panel, sales_frame

MONDAY = date(2024, 1, 1)


def shop_days(weeks: int, start: date = MONDAY) -> list[date]:
    """Every day but Saturdays."""
    days = [start + timedelta(days=n) for n in range(7 * weeks)]
    return [d for d in days if d.weekday() != 5]


def test_returns_are_their_own_series_and_never_reduce_demand():
    day1, day2 = MONDAY, MONDAY + timedelta(days=1)
    panel = build_panel(
        sales_frame([(day1, "A", 5), (day1, "A", 3), (day1, "A", -2), (day2, "A", -1), (day2, "A", 4)]),
        calendar=ShopCalendar(),
    )
    assert panel.series("A").tolist() == [8.0, 4.0]
    assert panel.returns["y"].tolist() == [2.0, 1.0]


def test_a_series_starts_at_the_products_first_sale_and_fills_quiet_days_with_zero():
    rows = [(MONDAY, "A", 1), (MONDAY + timedelta(days=3), "A", 2), (MONDAY + timedelta(days=2), "B", 7)]
    panel = build_panel(sales_frame(rows), calendar=ShopCalendar())
    assert panel.series("A").tolist() == [1.0, 0.0, 0.0, 2.0]
    assert panel.series("B").tolist() == [7.0, 0.0]
    assert panel.dates_of("B") == [MONDAY + timedelta(days=2), MONDAY + timedelta(days=3)]


def test_saturdays_and_christmas_are_inferred_as_closed_and_dropped():
    # Ten weeks around Christmas 2023: sales every day but Saturdays and 23 Dec - 3 Jan.
    start = date(2023, 11, 6)
    christmas = {date(2023, 12, 23) + timedelta(days=n) for n in range(12)}
    days = [d for d in shop_days(10, start) if d not in christmas]
    rows = [(d, "A", 2) for d in days] + [(d, "B", 1) for d in days[::3]]
    panel = build_panel(sales_frame(rows))
    assert panel.calendar.closed_weekdays == {5}
    assert christmas - {d for d in christmas if d.weekday() == 5} <= panel.calendar.closed_dates
    assert panel.days == days
    assert panel.series("A").tolist() == [2.0] * len(days)  # no zero for a closed day
    # Christmas recurs the next year; a Saturday never opens.
    assert not panel.calendar.is_open(date(2024, 12, 27))
    assert not panel.calendar.is_open(date(2024, 1, 6))
    assert panel.calendar.is_open(date(2024, 1, 8))


def test_a_quiet_small_shop_has_no_invented_holidays():
    days = shop_days(6)
    sells = np.random.default_rng(3).random(len(days)) < 0.5  # about every other day, no weekday pattern
    rows = [(d, "A", 1) for d, sold in zip(days, sells, strict=True) if sold]
    panel = build_panel(sales_frame(rows))
    assert panel.calendar.closed_dates == frozenset()
    assert 0.0 in panel.series("A")


def test_calendar_counts_open_days_in_a_lead_time():
    calendar = ShopCalendar(closed_weekdays=frozenset({5}), closed_dates=frozenset({date(2024, 1, 3)}))
    assert calendar.open_days_in(MONDAY, 7) == 5  # Wed 3rd closed, Saturday closed
    assert calendar.next_open_days(MONDAY, 3) == [date(2024, 1, 2), date(2024, 1, 4), date(2024, 1, 5)]
    assert ShopCalendar.from_dict(calendar.as_dict()) == calendar


def test_until_cuts_the_panel_at_a_cutoff():
    days = shop_days(2)
    panel = build_panel(sales_frame([(d, "A", i) for i, d in enumerate(days, start=1)]), calendar=ShopCalendar({5}))
    cut = panel.until(days[4])
    assert cut.series("A").tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    with pytest.raises(SeriesError, match="No data on or before"):
        panel.until(MONDAY - timedelta(days=1))


@pytest.mark.parametrize(
    "rows, message",
    [
        ([], "No sales"),
        ([(MONDAY, "A", 3), (MONDAY, "B", 1)], "Only one day of data"),
        ([(MONDAY, "A", -3), (MONDAY + timedelta(days=1), "A", -1)], "returns only"),
    ],
)
def test_unusable_sales_are_refused_clearly(rows, message):
    with pytest.raises(SeriesError, match=message):
        build_panel(sales_frame(rows) if rows else pd.DataFrame(columns=["day", "unique_id", "quantity"]))


def test_read_sales_parses_the_sales_format(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("date,item_id,quantity\n2024-01-01,85123A,6\n2024-01-02 10:31:00,85123A,-2\n")
    frame = read_sales(path)
    assert frame["day"].tolist() == [date(2024, 1, 1), date(2024, 1, 2)]
    assert frame["unique_id"].tolist() == ["85123A", "85123A"]
    assert np.array_equal(frame["quantity"].to_numpy(), [6.0, -2.0])


@pytest.mark.parametrize(
    "text, message",
    [
        ("date,item_id,quantity\n2024-01-01,A,1\nyesterday,A,2\n", "line 3: the date 'yesterday' does not parse"),
        ("date,item_id,quantity\n2024-01-01,A,lots\n", "line 2: the quantity 'lots' is not a number"),
        ("day,item,qty\n2024-01-01,A,1\n", "lacks the column"),
        ("date,item_id,quantity\n", "holds no sales"),
    ],
)
def test_read_sales_errors_name_the_line(tmp_path, text, message):
    path = tmp_path / "sales.csv"
    path.write_text(text)
    with pytest.raises(SeriesError, match=message):
        read_sales(path)
