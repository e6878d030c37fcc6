"""The `demand` kind: a daily demand forecast per product, stored with its version.

Reads every order line through the shop adapter (`iter_demand_lines`: cancelled orders left out,
returns apart), builds daily series on the days the shop is open, backtests the statsforecast models at
`n_windows` rolling origins, keeps the best per product (or the mean of the best two) and forecasts
`horizon_days`. The version stores, per product, the forecast with its 80 / 95 % intervals, the backtest
errors (the reorder maths' safety stock) and the recent history (the admin chart); its metrics are the
backtest report (RMSSE, MASE, bias per model and per ABC class).
"""
from __future__ import annotations

import math
import os
from collections import defaultdict
from typing import Any

import numpy as np
import torch
from django.utils import timezone

from ai.conf import ai_settings

from .base import ModelKind, TrainedModel, TrainingContext, register

HISTORY_DAYS = 120  # open days of history stored for the chart
ABC_SHARES = (0.8, 0.95)  # cumulative revenue shares closing classes A and B



def _report(ctx: TrainingContext, fraction: float, message: str) -> None:
    """The forecasting engine's progress (0..1) as 10..90% of the run, with its message in the log."""
    ctx.log(message)
    ctx.report(progress=10 + 80 * fraction)


@register
class DemandKind(ModelKind):
    name = "demand"
    label = "Demand forecast per product (statsforecast, best model per product by backtest)"
    # Higher is better for promotion: the negated backtest RMSSE of the per-product choice.
    primary_metric = "neg_rmsse"
    default_options = {
        "horizon_days": 56,
        "n_windows": 3,
        "ensemble": True,
        # AutoETS / AutoARIMA only for the products with most revenue (the rest get the cheap models):
        # keeps a nightly run of a large catalogue to minutes. 0: every product.
        "expensive_top": 200,
        "models": "",
        # Processes for per-product fits; 0 takes AI_FORECAST_N_JOBS.
        "n_jobs": 0,
    }
    option_ranges = {"horizon_days": (1, 366), "n_windows": (3, 20), "expensive_top": (0, 1_000_000), "n_jobs": (0, 256)}

    def clean_options(self, options: dict[str, Any]) -> dict[str, Any]:
        from ai.forecast.models import parse_models

        cleaned = super().clean_options(options)
        parse_models(cleaned["models"] or None)
        return cleaned

    def train(self, ctx: TrainingContext) -> TrainedModel:
        from ai.forecast.engine import EngineOptions, forecast_panel
        from ai.forecast.models import MODEL_NAMES, parse_models
        from ai.forecast.series import build_panel, sales_frame

        options = ctx.options
        adapter = ai_settings.adapter()
        ctx.log("reading order lines")
        records = [
            (timezone.localtime(line.at).date(), line.product_id, line.quantity) for line in adapter.iter_demand_lines()
        ]
        if not records:
            raise ValueError("No sales to forecast from yet: the shop has no (uncancelled) order lines")
        panel = build_panel(sales_frame(records))
        ctx.report(progress=10)
        products = adapter.get_products([int(pid) for pid in panel.product_ids])
        revenue = _revenue(panel, products)
        abc = _abc_classes(revenue)
        open_per_week = max(1, 7 - len(panel.calendar.closed_weekdays))
        horizon = max(1, round(options["horizon_days"] * open_per_week / 7))
        ranked = sorted(revenue, key=lambda pid: -revenue[pid])
        expensive = set(ranked[: options["expensive_top"]]) if options["expensive_top"] else None
        engine_options = EngineOptions(
            horizon=horizon,
            n_windows=options["n_windows"],
            season_length=open_per_week,
            models=parse_models(options["models"] or None, tuple(m for m in MODEL_NAMES if m != "autoarima")),
            ensemble=options["ensemble"],
            expensive_ids=expensive,
            n_jobs=options["n_jobs"] or _default_jobs(),
            dask_scheduler=ai_settings.FORECAST_DASK_SCHEDULER or None,
        )
        ctx.log(
            f"{len(panel.product_ids)} products, {len(panel.days)} open days to {panel.end}, horizon {horizon} open days, "
            f"closed weekdays {sorted(panel.calendar.closed_weekdays)}"
        )
        if engine_options.dask_scheduler:
            ctx.log(f"fitting on the Dask cluster at {engine_options.dask_scheduler}")
        result = forecast_panel(
            panel.frame, engine_options, progress=lambda f, message: _report(ctx, f, message)
        )
        report = _backtest_report(panel, result, abc)
        auto = report["models"].get("auto", {})
        metrics = {
            "rmsse": auto.get("rmsse"),
            "mase": auto.get("mase"),
            "bias": auto.get("bias"),
            "neg_rmsse": -auto["rmsse"] if auto.get("rmsse") is not None else None,
            "products": float(len(result.products)),
        }
        metrics = {key: float(value) for key, value in metrics.items() if value is not None}
        ctx.log(", ".join(f"{key} {value:.4f}" for key, value in metrics.items()))
        tensors, config = _state(panel, result, abc, report, engine_options)
        ctx.report(progress=100)
        summary = {
            "products": len(result.products),
            "first_day": panel.days[0].isoformat(),
            "last_day": panel.end.isoformat(),
            "open_days": len(panel.days),
            "order_lines": len(records),
        }
        report = {**report, "type": "demand_backtest", "n_windows": engine_options.n_windows}
        return TrainedModel(tensors=tensors, config=config, metrics=metrics, data_summary=summary, report=report)

    def load(self, tensors: dict[str, torch.Tensor], config: dict[str, Any]):
        from ai.forecast.service import DemandForecasts

        return DemandForecasts(tensors, config)


def _default_jobs() -> int:
    jobs = int(ai_settings.FORECAST_N_JOBS)
    return jobs if jobs > 0 else os.cpu_count() or 1


def _revenue(panel, products) -> dict[str, float]:
    totals = panel.frame.groupby("unique_id")["y"].sum()
    return {
        pid: float(units) * float(products[int(pid)].price if int(pid) in products else 0)
        for pid, units in totals.items()
    }


def _abc_classes(revenue: dict[str, float]) -> dict[str, str]:
    """A: the products making the first 80 % of revenue; B: the next 15 %; C: the rest."""
    total = sum(revenue.values())
    classes, running = {}, 0.0
    for pid in sorted(revenue, key=lambda p: -revenue[p]):
        share = running / total if total > 0 else 1.0
        classes[pid] = "A" if share < ABC_SHARES[0] else "B" if share < ABC_SHARES[1] else "C"
        running += revenue[pid]
    return classes


def _backtest_report(panel, result, abc: dict[str, str]) -> dict[str, Any]:
    """RMSSE, MASE and bias of each model and of the per-product choice (`auto`) on the backtest windows,
    and of `auto` per ABC class. The choice is scored on the windows it was chosen on, so its figures lean
    optimistic; `ai_eval forecast` scores on data the choice never saw."""
    from ai.forecast.metrics import summarise

    histories, actuals = {}, {}
    series = {pid: rows.to_numpy(dtype=float) for pid, rows in panel.frame.groupby("unique_id")["y"]}
    for pid, actual in result.actuals.items():
        histories[pid] = series[pid][: len(series[pid]) - actual.size]
        actuals[pid] = actual.ravel()
    report: dict[str, Any] = {"models": {}, "abc": {}}
    for name, predictions in result.backtest.items():
        if predictions:
            forecasts = {pid: values.ravel() for pid, values in predictions.items()}
            report["models"][name] = _clean(summarise({p: actuals[p] for p in forecasts}, forecasts, histories))
    auto = {pid: actuals[pid] - result.products[pid].residuals.ravel() for pid in actuals}
    report["models"]["auto"] = _clean(summarise(actuals, auto, histories))
    by_class: dict[str, list[str]] = defaultdict(list)
    for pid in actuals:
        by_class[abc.get(pid, "C")].append(pid)
    for label in sorted(by_class):
        ids = by_class[label]
        report["abc"][label] = _clean(summarise({p: actuals[p] for p in ids}, {p: auto[p] for p in ids}, histories))
    chosen: dict[str, int] = defaultdict(int)
    for forecast in result.products.values():
        chosen[forecast.model] += 1
    report["chosen"] = dict(sorted(chosen.items(), key=lambda item: -item[1]))
    report["fit_seconds"] = {name: round(seconds, 2) for name, seconds in result.fit_seconds.items()}
    return report


def _clean(summary: dict) -> dict:
    """Rounded, with NaN and infinities as None (JSON has neither)."""
    cleaned = {}
    for key, value in summary.items():
        if isinstance(value, float):
            value = round(value, 4) if math.isfinite(value) else None
        cleaned[key] = value
    return cleaned


def _state(panel, result, abc, report, options) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    ids = sorted(result.products, key=int)
    horizon = options.horizon
    windows = options.n_windows
    arrays = {name: np.zeros((len(ids), horizon), dtype=np.float32) for name in ("mean", "lo80", "hi80", "lo95", "hi95")}
    residuals = np.full((len(ids), windows, horizon), np.nan, dtype=np.float32)
    scales = np.array([result.products[pid].scale for pid in ids], dtype=np.float32)
    first_history = max(0, len(panel.days) - HISTORY_DAYS)
    history = np.full((len(ids), len(panel.days) - first_history), np.nan, dtype=np.float32)
    series = {pid: rows for pid, rows in panel.frame.groupby("unique_id")}
    for row, pid in enumerate(ids):
        forecast = result.products[pid]
        arrays["mean"][row] = forecast.mean
        for level in (80, 95):
            arrays[f"lo{level}"][row] = forecast.lo[level]
            arrays[f"hi{level}"][row] = forecast.hi[level]
        flat = forecast.residuals.ravel()[-windows * horizon :]
        padded = np.full(windows * horizon, np.nan, dtype=np.float32)
        padded[windows * horizon - flat.size :] = flat
        residuals[row] = padded.reshape(windows, horizon)
        rows = series[pid]
        recent = rows[rows["ds"] >= first_history]
        history[row, recent["ds"].to_numpy() - first_history] = recent["y"].to_numpy()
    tensors = {name: torch.from_numpy(values) for name, values in arrays.items()}
    tensors["residuals"] = torch.from_numpy(residuals)
    tensors["scale"] = torch.from_numpy(scales)
    tensors["history"] = torch.from_numpy(history)
    days = panel.calendar.next_open_days(panel.end, horizon)
    config = {
        "product_ids": [int(pid) for pid in ids],
        "models": [result.products[pid].model for pid in ids],
        "abc": {pid: abc.get(pid, "C") for pid in ids},
        "days": [d.isoformat() for d in days],
        "history_days": [d.isoformat() for d in panel.days[first_history:]],
        "calendar": panel.calendar.as_dict(),
        "report": report,
        "horizon": horizon,
        "n_windows": windows,
    }
    return tensors, config
