"""The forecasts of the live `demand` version, for the host shop (its reorder list, charts, API).

    from ai.forecast import service
    forecasts = service.live_forecasts()          # None until a demand version is live
    f = forecasts.get(product_id)                 # a ProductDemand, or None for a product never sold
    service.reorder_plan(f, stock=..., ...)       # the reorder maths on it

The forecasts are stored with their model version (ai/kinds/demand.py); a serving process holds the
live one in memory through the registry and switches within seconds of a promotion.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from . import reorder
from .series import ShopCalendar


@dataclass(frozen=True)
class ProductDemand:
    """One product's forecast: values per open day from `days[0]`, with 80 / 95 % intervals."""

    product_id: int
    model: str
    days: list[date]
    mean: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray
    residuals: np.ndarray
    history_days: list[date]
    history: np.ndarray  # NaN before the first sale
    abc: str
    calendar: ShopCalendar
    scale: float = 0.0  # recent mean daily demand: the pooled error quantile's unit for this product
    pooled: Callable[[int, float], float] | None = None  # (lead open days, service level) -> pooled quantile

    def lead_open_days(self, lead_time_days: int) -> int:
        """A lead time in calendar days, counted in the open days it spans from the forecast origin."""
        reorder.check_lead_days(lead_time_days)
        return self.calendar.open_days_in(self.days[0], lead_time_days) if self.days else lead_time_days

    def truncated(self, horizon_days: int) -> ProductDemand:
        """The forecast for the open days within `horizon_days` calendar days of the origin."""
        keep = self.lead_open_days(horizon_days)
        return ProductDemand(
            **{**self.__dict__, "days": self.days[:keep], "mean": self.mean[:keep], "lo80": self.lo80[:keep],
               "hi80": self.hi80[:keep], "lo95": self.lo95[:keep], "hi95": self.hi95[:keep]}
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "product": self.product_id,
            "model": self.model,
            "abc_class": self.abc,
            "days": [
                {
                    "date": day.isoformat(),
                    "mean": round(float(self.mean[i]), 3),
                    "lo80": round(float(self.lo80[i]), 3),
                    "hi80": round(float(self.hi80[i]), 3),
                    "lo95": round(float(self.lo95[i]), 3),
                    "hi95": round(float(self.hi95[i]), 3),
                }
                for i, day in enumerate(self.days)
            ],
        }


class DemandForecasts:
    """The serving object of a `demand` version (built by DemandKind.load)."""

    def __init__(self, tensors: dict[str, Any], config: dict[str, Any]) -> None:
        self.config = config
        self.product_ids = [int(pid) for pid in config["product_ids"]]
        self.index = {pid: i for i, pid in enumerate(self.product_ids)}
        self.models = config["models"]
        self.abc = config.get("abc", {})
        self.days = [date.fromisoformat(d) for d in config["days"]]
        self.history_days = [date.fromisoformat(d) for d in config["history_days"]]
        self.calendar = ShopCalendar.from_dict(config["calendar"])
        self.report = config.get("report", {})
        self.arrays = {name: tensor.numpy().astype(np.float64) for name, tensor in tensors.items()}
        self._pooled: dict[tuple[int, float], float] = {}

    def pooled_quantile(self, lead_days: int, service_level: float) -> float:
        """The catalogue's pooled, scaled lead-time error quantile (reorder.pooled_quantile), cached."""
        key = (int(lead_days), float(service_level))
        if key not in self._pooled:
            scales = self.arrays.get("scale")
            if scales is None:
                self._pooled[key] = 0.0
            else:
                rows = range(len(self.product_ids))
                self._pooled[key] = reorder.pooled_quantile(
                    {row: self.arrays["residuals"][row] for row in rows}, {row: scales[row] for row in rows}, *key
                )
        return self._pooled[key]

    def __contains__(self, product_id: int) -> bool:
        return int(product_id) in self.index

    @property
    def origin(self) -> date | None:
        return self.days[0] if self.days else None

    def get(self, product_id: int) -> ProductDemand | None:
        row = self.index.get(int(product_id))
        if row is None:
            return None
        arrays = self.arrays
        return ProductDemand(
            product_id=int(product_id),
            model=self.models[row],
            days=self.days,
            mean=arrays["mean"][row],
            lo80=arrays["lo80"][row],
            hi80=arrays["hi80"][row],
            lo95=arrays["lo95"][row],
            hi95=arrays["hi95"][row],
            residuals=arrays["residuals"][row],
            history_days=self.history_days,
            history=arrays["history"][row],
            abc=self.abc.get(str(product_id), "C"),
            calendar=self.calendar,
            scale=float(arrays["scale"][row]) if "scale" in arrays else 0.0,
            pooled=self.pooled_quantile,
        )

    def aggregate(self, product_ids) -> dict[str, Any] | None:
        """The summed forecast of these products (a category, the shop) with 80 / 95 % intervals.

        Means add up; each interval's half-widths add in quadrature (the products' errors taken as
        independent), which is what planning a promotion for a group needs.
        """
        rows = [self.index[int(pid)] for pid in product_ids if int(pid) in self.index]
        if not rows:
            return None
        arrays = self.arrays
        mean = arrays["mean"][rows].sum(axis=0)
        result = {"products": len(rows), "days": [d.isoformat() for d in self.days], "mean": mean.round(3).tolist()}
        for level in (80, 95):
            below = np.sqrt(((arrays["mean"][rows] - arrays[f"lo{level}"][rows]) ** 2).sum(axis=0))
            above = np.sqrt(((arrays[f"hi{level}"][rows] - arrays["mean"][rows]) ** 2).sum(axis=0))
            result[f"lo{level}"] = np.clip(mean - below, 0, None).round(3).tolist()
            result[f"hi{level}"] = (mean + above).round(3).tolist()
        return result


def live_forecasts() -> DemandForecasts | None:
    """The live demand version's forecasts, or None when no demand model is live yet."""
    from ai.registry import live_model

    model = live_model("demand")
    return model if isinstance(model, DemandForecasts) else None


def live_version_label() -> str | None:
    from ai.registry import live_loaded

    loaded = live_loaded("demand")
    return f"demand v{loaded.version}" if loaded else None


def reorder_plan(
    forecast: ProductDemand,
    *,
    stock: float,
    on_order: float,
    lead_time_days: int,
    service_level: float,
    review_days: int,
    minimum: int,
    pack_size: int,
    unit_price: float,
) -> reorder.ReorderPlan:
    """The reorder maths for one product, lead and review times given in calendar days."""
    lead = forecast.lead_open_days(lead_time_days)
    review = forecast.calendar.open_days_in(forecast.days[0], lead_time_days + review_days) - lead if forecast.days else review_days
    return reorder.plan(
        daily_forecast=forecast.mean,
        residuals=forecast.residuals,
        stock=stock,
        on_order=on_order,
        lead_days=lead,
        service_level=service_level,
        review_days=review,
        minimum=minimum,
        pack_size=pack_size,
        unit_price=unit_price,
        pooled=forecast.pooled(lead, service_level) if forecast.pooled and lead > 0 else 0.0,
        scale=forecast.scale,
    )


def date_after_open_days(forecast: ProductDemand, open_days: float | None) -> date | None:
    """The calendar date on which `open_days` open days from the origin have passed (stock-out date)."""
    if open_days is None or not forecast.days:
        return None
    whole = int(math.floor(open_days))
    if whole < len(forecast.days):
        return forecast.days[whole]
    extra = forecast.calendar.next_open_days(forecast.days[-1], whole - len(forecast.days) + 1)
    return extra[-1] if extra else None
