"""Daily demand series per product, on the days the shop is open.

Sales arrive as (day, product, quantity) records: a positive quantity is demand, a negative one a
return (returns form their own series and are never subtracted from demand; cancelled orders are left
out by whoever produces the records). Days on which the shop is closed (a weekday it never trades on,
Christmas) are not days without demand: they are dropped from the series, so that the models see one
step per trading day and the forecasts put nothing on closed days.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

# A weekday is closed when the shop sold nothing on at least this share of its weeks.
CLOSED_WEEKDAY_SHARE = 0.8
# Weeks of history needed before weekdays are judged at all.
MIN_WEEKS_FOR_WEEKDAYS = 4
# Other days without any sale count as closed only where such days are rare (a busy shop's holidays),
# not in a small shop whose quiet days simply had no orders.
MAX_ZERO_SHARE_FOR_HOLIDAYS = 0.2


class SeriesError(ValueError):
    """The sales cannot make a usable series (no data, one day of data, unparseable dates…)."""


@dataclass(frozen=True)
class ShopCalendar:
    """Which days the shop trades on: closed weekdays (0 = Monday) and closed dates.

    A closed date's (month, day) is closed in every later year too (Christmas recurs); dates are only
    known from the history, so one-off closures are not projected beyond their year.
    """

    closed_weekdays: frozenset[int] = frozenset()
    closed_dates: frozenset[date] = frozenset()
    recurring: frozenset[tuple[int, int]] = field(default=frozenset())

    def is_open(self, day: date) -> bool:
        if day.weekday() in self.closed_weekdays or day in self.closed_dates:
            return False
        return (day.month, day.day) not in self.recurring

    def open_days(self, start: date, end: date) -> list[date]:
        """Open days from start to end, both included."""
        days, day = [], start
        while day <= end:
            if self.is_open(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def next_open_days(self, after: date, count: int) -> list[date]:
        """The `count` open days following `after` (not included)."""
        days: list[Any] = []
        day = after
        # A shop open on no day at all would loop forever: at most a year of closed days in a row.
        for _ in range(count * 7 + 366):
            if len(days) == count:
                break
            day += timedelta(days=1)
            if self.is_open(day):
                days.append(day)
        return days

    def open_days_in(self, start: date, calendar_days: int) -> int:
        """How many open days fall in `calendar_days` days from `start` (included): lead times in trading days."""
        return sum(self.is_open(start + timedelta(days=offset)) for offset in range(calendar_days))

    def as_dict(self) -> dict:
        return {
            "closed_weekdays": sorted(self.closed_weekdays),
            "closed_dates": [d.isoformat() for d in sorted(self.closed_dates)],
            "recurring": [list(md) for md in sorted(self.recurring)],
        }

    @classmethod
    def from_dict(cls, data: dict) -> ShopCalendar:
        return cls(
            closed_weekdays=frozenset(int(d) for d in data.get("closed_weekdays", [])),
            closed_dates=frozenset(date.fromisoformat(d) for d in data.get("closed_dates", [])),
            recurring=frozenset((int(m), int(d)) for m, d in data.get("recurring", [])),
        )

    @classmethod
    def infer(cls, trading_days: Iterable[date], first: date, last: date) -> ShopCalendar:
        """Learn the calendar from the days on which anything sold, between first and last."""
        traded = set(trading_days)
        all_days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        closed_weekdays = set()
        if len(all_days) >= 7 * MIN_WEEKS_FOR_WEEKDAYS:
            for weekday in range(7):
                days = [d for d in all_days if d.weekday() == weekday]
                if sum(d not in traded for d in days) >= CLOSED_WEEKDAY_SHARE * len(days):
                    closed_weekdays.add(weekday)
        candidates = [d for d in all_days if d.weekday() not in closed_weekdays]
        zero = [d for d in candidates if d not in traded]
        closed_dates: set[date] = set()
        if candidates and len(zero) <= MAX_ZERO_SHARE_FOR_HOLIDAYS * len(candidates):
            closed_dates = set(zero)
        # Runs of two or more closed dates (a holiday season) recur; a lone quiet day does not.
        recurring = {
            (d.month, d.day)
            for d in closed_dates
            if d - timedelta(days=1) in closed_dates or d + timedelta(days=1) in closed_dates
            or _neighbour_closed(d, closed_dates, closed_weekdays)
        }
        return cls(frozenset(closed_weekdays), frozenset(closed_dates), frozenset(recurring))


def _neighbour_closed(day: date, closed: set[date], weekdays: set[int]) -> bool:
    """Whether the closure continues across closed weekdays (Friday 24th, Saturday, Sunday 26th)."""
    for step in (-1, 1):
        other = day + timedelta(days=step)
        while other.weekday() in weekdays:
            other += timedelta(days=step)
        if other in closed:
            return True
    return False


@dataclass
class DemandPanel:
    """Demand (and returns) per product per open day, from each product's first sale to `end`.

    `frame` is long: unique_id (str), ds (int, the open-day index), y (units); `days[i]` is the date
    of open day i. `returns` has the same shape for returned units (positive numbers).
    """

    frame: pd.DataFrame
    returns: pd.DataFrame
    days: list[date]
    calendar: ShopCalendar

    @property
    def end(self) -> date:
        return self.days[-1]

    @property
    def product_ids(self) -> list[str]:
        return list(self.frame["unique_id"].unique())

    def series(self, product_id: str) -> np.ndarray:
        return self.frame.loc[self.frame["unique_id"] == str(product_id), "y"].to_numpy()

    def dates_of(self, product_id: str) -> list[date]:
        index = self.frame.loc[self.frame["unique_id"] == str(product_id), "ds"].to_numpy()
        return [self.days[i] for i in index]

    def until(self, cutoff: date) -> DemandPanel:
        """The panel as it was known at the end of `cutoff` (included)."""
        last = max((i for i, d in enumerate(self.days) if d <= cutoff), default=-1)
        if last < 0:
            raise SeriesError(f"No data on or before {cutoff.isoformat()}")
        keep = self.frame["ds"] <= last
        return DemandPanel(
            frame=self.frame[keep].reset_index(drop=True),
            returns=self.returns[self.returns["ds"] <= last].reset_index(drop=True),
            days=self.days[: last + 1],
            calendar=self.calendar,
        )


def sales_frame(records: Iterable[tuple[date, object, float]]) -> pd.DataFrame:
    """(day, product, quantity) records as a frame with columns day, unique_id, quantity."""
    frame = pd.DataFrame.from_records(list(records), columns=["day", "unique_id", "quantity"])
    frame["unique_id"] = frame["unique_id"].astype(str)
    frame["quantity"] = pd.to_numeric(frame["quantity"], errors="raise").astype(float)
    return frame


def build_panel(
    sales: pd.DataFrame, *, end: date | None = None, calendar: ShopCalendar | None = None
) -> DemandPanel:
    """Daily demand and returns per product on open days (see the module docstring).

    `sales` has columns day (date), unique_id (str), quantity (negative: a return). `end` defaults to
    the last day with any sale; the calendar is inferred from the sales unless given.
    """
    if sales.empty:
        raise SeriesError("No sales to build demand series from")
    days = pd.to_datetime(sales["day"]).dt.date
    first, last = days.min(), days.max()
    end = end or last
    if first == end:
        raise SeriesError(f"Only one day of data ({first.isoformat()}): a forecast needs a history")
    sold = sales.assign(day=days)
    calendar = calendar or ShopCalendar.infer(sold.loc[sold["quantity"] > 0, "day"].unique(), first, end)
    open_days = calendar.open_days(first, end)
    index_of = {d: i for i, d in enumerate(open_days)}
    sold = sold[sold["day"].isin(index_of.keys())]
    if sold.empty:
        raise SeriesError("Every sale falls on a day the shop is closed")
    sold = sold.assign(ds=sold["day"].map(index_of))
    demand = _daily(sold[sold["quantity"] > 0], len(open_days))
    if demand.empty:
        raise SeriesError("The sales hold returns only: no demand to forecast")
    returns = sold[sold["quantity"] < 0].assign(quantity=lambda f: -f["quantity"])
    starts = demand.groupby("unique_id")["ds"].min()
    returns_frame = _daily(returns[returns["unique_id"].isin(starts.index)], len(open_days), starts)
    return DemandPanel(frame=demand, returns=returns_frame, days=open_days, calendar=calendar)


def _daily(lines: pd.DataFrame, n_days: int, starts: pd.Series | None = None) -> pd.DataFrame:
    """Sum quantities per product and open day, filled with zeros from each product's start to the end."""
    totals = lines.groupby(["unique_id", "ds"], sort=True)["quantity"].sum()
    if totals.empty:
        return pd.DataFrame({"unique_id": pd.Series(dtype=str), "ds": pd.Series(dtype=int), "y": pd.Series(dtype=float)})
    if starts is None:
        starts = totals.reset_index().groupby("unique_id")["ds"].min()
    ids, ds = [], []
    for product, start in starts.items():
        span = np.arange(int(start), n_days)
        ids.append(np.full(len(span), product, dtype=object))
        ds.append(span)
    index = pd.MultiIndex.from_arrays([np.concatenate(ids), np.concatenate(ds)], names=["unique_id", "ds"])
    y = totals.reindex(index, fill_value=0.0)
    frame = y.reset_index().rename(columns={"quantity": "y"})
    frame["unique_id"] = frame["unique_id"].astype(str)
    frame["ds"] = frame["ds"].astype(int)
    return frame
