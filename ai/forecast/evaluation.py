"""Offline evaluation of the demand forecasts on a sales file (`manage.py ai_eval forecast`).

Trains on the data up to a cutoff, forecasts `horizon` calendar days (the open days among them), and
scores every candidate model, and `auto` (the per-product choice the `demand` kind serves), on what
followed. For `auto` it also measures the service level its reorder points achieve: the test period is
cut into consecutive lead times; in each, a product "ordered at its reorder point" runs out when what
it actually sold exceeds that reorder point.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from . import reorder
from .engine import EngineOptions, PanelForecast, forecast_panel
from .metrics import summarise
from .models import MODEL_NAMES
from .series import DemandPanel, SeriesError, build_panel

DEFAULT_MODELS = tuple(name for name in MODEL_NAMES if name != "autoarima")


@dataclass(frozen=True)
class EvalSettings:
    horizon_days: int = 28
    cutoff: date | None = None
    top: int | None = None
    lead_time_days: int = 7
    service_level: float = 0.95
    models: tuple[str, ...] = DEFAULT_MODELS
    n_windows: int = 3
    ensemble: bool = True
    n_jobs: int = 1

    def check(self) -> None:
        if self.horizon_days < 1:
            raise SeriesError(f"--horizon must be at least 1 day, not {self.horizon_days}")
        reorder.check_lead_days(self.lead_time_days)
        reorder.check_service_level(self.service_level)
        if self.top is not None and self.top < 1:
            raise SeriesError(f"--top must be at least 1, not {self.top}")
        for required in ("autoets", "seasonal_naive"):
            if required not in self.models:
                raise SeriesError(f"The baselines need the model {required!r} in --models")


@dataclass
class EvalResult:
    rows: list[dict]
    cutoff: date
    test_days: list[date]
    products: int
    train_days: int


def run_evaluation(sales: pd.DataFrame, settings: EvalSettings, progress=None) -> EvalResult:
    settings.check()
    panel = build_panel(sales)
    last = panel.end
    cutoff = settings.cutoff or last - timedelta(days=settings.horizon_days)
    if cutoff < panel.days[0] or cutoff >= last:
        raise SeriesError(
            f"The cutoff {cutoff.isoformat()} must fall inside the data ({panel.days[0].isoformat()} to {last.isoformat()}, the last day excluded)"
        )
    end = cutoff + timedelta(days=settings.horizon_days)
    test_index = [i for i, day in enumerate(panel.days) if cutoff < day <= end]
    train = panel.until(cutoff)
    horizon = len(test_index)
    needed = settings.n_windows * horizon + 1
    if not test_index or len(train.days) < needed:
        raise SeriesError(
            f"A horizon of {settings.horizon_days} days needs at least {needed} open days of history before the cutoff "
            f"({settings.n_windows} backtest origins); there are {len(train.days)}"
        )
    frame = _top_products(train, sales, cutoff, settings.top)
    started = time.perf_counter()
    options = EngineOptions(
        horizon=horizon,
        n_windows=settings.n_windows,
        season_length=max(1, 7 - len(panel.calendar.closed_weekdays)),
        models=settings.models,
        ensemble=settings.ensemble,
        n_jobs=settings.n_jobs,
    )
    result = forecast_panel(frame, options, progress=progress)
    auto_seconds = time.perf_counter() - started
    ids = list(result.products)
    histories = {pid: rows.to_numpy(dtype=float) for pid, rows in frame.groupby("unique_id")["y"]}
    actual_frame = panel.frame[panel.frame["ds"].isin(test_index) & panel.frame["unique_id"].isin(ids)]
    actuals = {pid: rows.sort_values("ds")["y"].to_numpy(dtype=float) for pid, rows in actual_frame.groupby("unique_id")}
    weights = _revenue(sales, cutoff, ids)
    rows = []
    for name in settings.models:
        forecasts = {pid: result.candidate_forecasts[name].get(pid, result.products[pid].mean) for pid in ids}
        rows.append(_row(name, summarise(actuals, forecasts, histories, weights), result.fit_seconds.get(name, 0.0)))
    auto = {pid: forecast.mean for pid, forecast in result.products.items()}
    row = _row("auto", summarise(actuals, auto, histories, weights), auto_seconds)
    lead_days = panel.calendar.open_days_in(cutoff + timedelta(days=1), settings.lead_time_days)
    row["service_level"] = achieved_service_level(result, actuals, lead_days, settings.service_level)
    row["lead_time_open_days"] = lead_days
    row["models_chosen"] = _model_counts(result)
    rows.append(row)
    return EvalResult(rows, cutoff, [panel.days[i] for i in test_index], len(ids), len(train.days))


def _top_products(train: DemandPanel, sales: pd.DataFrame, cutoff: date, top: int | None) -> pd.DataFrame:
    """The training frame of the `top` products by revenue before the cutoff (by units without prices)."""
    frame = train.frame
    if top is None:
        return frame
    before = sales[(sales["day"] <= cutoff) & (sales["quantity"] > 0)]
    if "price" in before.columns and before["price"].notna().any():
        totals = (before["quantity"] * before["price"].fillna(0)).groupby(before["unique_id"]).sum()
    else:
        totals = before.groupby("unique_id")["quantity"].sum()
    keep = totals.sort_values(ascending=False, kind="stable").index[:top]
    return frame[frame["unique_id"].isin(set(keep))].reset_index(drop=True)


def _revenue(sales: pd.DataFrame, cutoff: date, ids: list[str]) -> dict[str, float] | None:
    if "price" not in sales.columns or not sales["price"].notna().any():
        return None
    before = sales[(sales["day"] <= cutoff) & (sales["quantity"] > 0) & sales["unique_id"].isin(ids)]
    return (before["quantity"] * before["price"].fillna(0)).groupby(before["unique_id"]).sum().to_dict()


def _row(name: str, summary: dict, seconds: float) -> dict:
    return {
        "model": name,
        "rmsse": _round(summary["rmsse"]),
        "mase": _round(summary["mase"]),
        "bias": _round(summary["bias"]),
        "rmsse_revenue_weighted": _round(summary["rmsse_revenue_weighted"]),
        "fit_s": round(seconds, 2),
        "service_level": None,
        "products": summary["products"],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _model_counts(result: PanelForecast) -> dict[str, int]:
    counts: dict[str, int] = {}
    for forecast in result.products.values():
        counts[forecast.model] = counts.get(forecast.model, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def achieved_service_level(
    result: PanelForecast, actuals: dict[str, np.ndarray], lead_days: int, service_level: float
) -> float | None:
    """Share of (product, lead-time period) pairs in the test window whose demand stayed within the
    reorder point computed at the cutoff (the same safety stock as `reorder.plan`)."""
    if lead_days < 1:
        return None
    hits = total = 0
    pooled = reorder.pooled_quantile(
        {pid: f.residuals for pid, f in result.products.items()}, {pid: f.scale for pid, f in result.products.items()},
        lead_days, service_level,
    )
    for pid, actual in actuals.items():
        forecast = result.products[pid]
        own = reorder.safety_stock(reorder.lead_time_errors(forecast.residuals, lead_days), service_level)
        safety = max(own, pooled * forecast.scale)
        for start in range(0, len(actual) - lead_days + 1, lead_days):
            point = reorder.demand_over(forecast.mean, lead_days, start) + safety
            hits += float(actual[start : start + lead_days].sum()) <= point + 1e-9
            total += 1
    return round(hits / total, 4) if total else None


def format_table(result: EvalResult) -> str:
    header = f"{'model':<16}{'RMSSE':>8}{'MASE':>8}{'bias':>8}{'wRMSSE':>8}{'fit s':>8}{'service':>9}"
    lines = [
        f"cutoff {result.cutoff.isoformat()}, {result.products} products, {result.train_days} open days of history, "
        f"{len(result.test_days)} open days scored",
        header,
        "-" * len(header),
    ]

    def show(value, fmt="{:.3f}"):
        return "-" if value is None else fmt.format(value)

    for row in result.rows:
        lines.append(
            f"{row['model']:<16}{show(row['rmsse']):>8}{show(row['mase']):>8}{show(row['bias'], '{:+.3f}'):>8}"
            f"{show(row['rmsse_revenue_weighted']):>8}{row['fit_s']:>8.1f}{show(row['service_level'], '{:.1%}'):>9}"
        )
    return "\n".join(lines)
