"""Reorder maths: plain functions from a forecast to stock decisions.

All quantities are units; `daily_forecast` is the mean demand per open day from the forecast origin
onwards, `lead_days` the supplier lead time counted in open days (the shop sells nothing on closed
days, so a lead time that spans them needs less cover). Safety stock comes from the empirical
distribution of the forecast's errors over a lead time (actual minus forecast, from the backtest), so
that a 95 % service level means: in 95 % of lead times the stock at the reorder point was enough.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class ReorderInputError(ValueError):
    """An input outside its domain (negative lead time, service level outside (0, 1)…)."""


def check_service_level(service_level: float) -> float:
    value = float(service_level)
    if not 0 < value < 1:
        raise ReorderInputError(f"The service level must be strictly between 0 and 1 (e.g. 0.95), not {service_level}")
    return value


def check_lead_days(lead_days: int) -> int:
    if int(lead_days) != lead_days or lead_days < 0:
        raise ReorderInputError(f"The lead time must be a whole number of days, 0 or more, not {lead_days}")
    return int(lead_days)


def demand_over(daily_forecast: Sequence[float] | np.ndarray, days: float, start: int = 0) -> float:
    """Forecast demand over `days` open days from `start`; beyond the horizon the last day repeats."""
    values = np.asarray(daily_forecast, dtype=float)
    if days <= 0 or len(values) == 0:
        return 0.0
    whole = int(math.floor(days))
    end = start + whole
    total = float(values[start:end].sum())
    if end > len(values):
        total += float(values[-1]) * (end - max(start, len(values)))
    fraction = days - whole
    if fraction:
        total += float(values[min(end, len(values) - 1)]) * fraction
    return total


def lead_time_errors(residuals: np.ndarray, lead_days: int) -> np.ndarray:
    """Errors (actual minus forecast) summed over every run of `lead_days` consecutive open days.

    `residuals` is windows x horizon from a rolling-origin backtest (NaN where there was none). Lead times longer than the horizon
    are scaled from the whole-horizon sums by sqrt(lead / horizon).
    """
    residuals = np.atleast_2d(np.asarray(residuals, dtype=float))
    horizon = residuals.shape[1]
    if lead_days <= 0 or horizon == 0:
        return np.zeros(1)
    length = min(lead_days, horizon)
    sums = np.lib.stride_tricks.sliding_window_view(residuals, length, axis=1).sum(axis=-1).ravel()
    sums = sums[np.isfinite(sums)]  # windows over padding (NaN) carry no information
    if lead_days > horizon:
        sums = sums * math.sqrt(lead_days / horizon)
    return sums


def safety_stock(errors: np.ndarray, service_level: float) -> float:
    """The service-level quantile of lead-time errors, never below zero (no negative safety stock)."""
    check_service_level(service_level)
    errors = np.asarray(errors, dtype=float)
    if errors.size == 0:
        return 0.0
    return max(0.0, float(np.quantile(errors, service_level, method="higher")))


def pooled_quantile(residuals: dict, scales: dict, lead_days: int, service_level: float) -> float:
    """The service-level quantile of every product's lead-time errors divided by its scale.

    One product's backtest holds a few dozen overlapping lead times: its own quantile underestimates the
    tail. Pooled over the catalogue (each product's errors in units of its recent daily demand), the
    quantile is stable; a product's safety stock is the larger of its own and the pooled one times its scale.
    """
    check_service_level(service_level)
    errors = [lead_time_errors(residuals[key], lead_days) / max(float(scales[key]), 1e-6) for key in residuals]
    errors = [e for e in errors if e.size]
    if not errors:
        return 0.0
    return max(0.0, float(np.quantile(np.concatenate(errors), service_level)))


def reorder_point(daily_forecast: Sequence[float] | np.ndarray, lead_days: int, safety: float) -> float:
    """Stock at which to order: the demand expected over the lead time plus the safety stock."""
    check_lead_days(lead_days)
    return demand_over(daily_forecast, lead_days) + max(0.0, safety)


def order_up_to(daily_forecast: Sequence[float] | np.ndarray, lead_days: int, review_days: int, safety: float) -> float:
    """The level an order should lift stock (on hand plus on order) to: demand over lead time plus one
    review period, plus the safety stock."""
    check_lead_days(lead_days)
    return demand_over(daily_forecast, lead_days + max(0, review_days)) + max(0.0, safety)


def days_of_cover(stock: float, daily_forecast: Sequence[float] | np.ndarray) -> float | None:
    """Open days until the forecast demand uses up `stock` (fractional); None when it lasts beyond the horizon
    at the horizon's last rate, that is: never, when the forecast ends at zero."""
    values = np.asarray(daily_forecast, dtype=float).clip(min=0)
    if stock <= 0:
        return 0.0
    cumulative = np.cumsum(values)
    reached = np.flatnonzero(cumulative >= stock)
    if reached.size:
        day = int(reached[0])
        before = float(cumulative[day - 1]) if day else 0.0
        return day + (stock - before) / float(values[day])
    last = float(values[-1]) if len(values) else 0.0
    if last <= 0:
        return None
    return len(values) + (stock - float(cumulative[-1])) / last


def suggested_quantity(
    target_level: float, stock: float, on_order: float, *, minimum: int = 1, pack_size: int = 1
) -> int:
    """Units to order to reach `target_level` from stock plus what is on order: 0 when nothing is needed,
    else at least `minimum`, rounded up to whole packs."""
    if pack_size < 1:
        raise ReorderInputError(f"The pack size must be at least 1, not {pack_size}")
    if minimum < 0:
        raise ReorderInputError(f"The minimum order quantity cannot be negative ({minimum})")
    need = target_level - stock - on_order
    if need <= 0:
        return 0
    quantity = max(math.ceil(need - 1e-9), minimum)
    return int(math.ceil(quantity / pack_size) * pack_size)


@dataclass(frozen=True)
class ReorderPlan:
    reorder_point: float
    order_up_to: float
    safety_stock: float
    lead_time_demand: float
    days_of_cover: float | None
    suggested_quantity: int
    urgency_days: float | None
    revenue_at_risk_per_day: float

    @property
    def needs_order(self) -> bool:
        return self.suggested_quantity > 0


def plan(
    *,
    daily_forecast: Sequence[float] | np.ndarray,
    residuals: np.ndarray,
    stock: float,
    on_order: float,
    lead_days: int,
    service_level: float,
    review_days: int,
    minimum: int,
    pack_size: int,
    unit_price: float,
    pooled: float = 0.0,
    scale: float = 0.0,
) -> ReorderPlan:
    """Everything the reorder list shows for one product.

    urgency_days = days of cover minus lead time (negative: it will run out before an order placed now
    arrives); revenue at risk per day = mean forecast demand per day x price.
    """
    check_lead_days(lead_days)
    check_service_level(service_level)
    safety = max(safety_stock(lead_time_errors(residuals, lead_days), service_level), pooled * scale)
    point = reorder_point(daily_forecast, lead_days, safety)
    level = max(order_up_to(daily_forecast, lead_days, review_days, safety), point)
    cover = days_of_cover(stock, daily_forecast)
    quantity = suggested_quantity(level, stock, on_order, minimum=minimum, pack_size=pack_size) if stock + on_order <= point else 0
    values = np.asarray(daily_forecast, dtype=float)
    mean_daily = float(values.mean()) if len(values) else 0.0
    return ReorderPlan(
        reorder_point=point,
        order_up_to=level,
        safety_stock=safety,
        lead_time_demand=demand_over(daily_forecast, lead_days),
        days_of_cover=cover,
        suggested_quantity=quantity,
        urgency_days=None if cover is None else cover - lead_days,
        revenue_at_risk_per_day=mean_daily * float(unit_price),
    )
