"""Fitting, backtesting and choosing a model per product with statsforecast.

`forecast_panel` runs a rolling-origin backtest (`n_windows` origins inside the training data, each
forecasting `horizon` open days) of every candidate model, picks per product the model (or the mean of
the best two, when `ensemble` is on) with the lowest backtest squared error, and forecasts the horizon
with it. Intervals come from the model where it has them, else from empirical quantiles of its
backtest errors. The backtest errors are kept: the reorder maths takes its safety stock from them.

Products whose history is too short for the backtest get a fallback: the mean of what they sold so
far, with errors from their own history.

Per-product fits run in `n_jobs` processes, or on a Dask cluster through statsforecast's fugue backend
when `dask_scheduler` names one (tcp://host:port, or a `distributed.Client`).
"""
from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .models import EXPENSIVE, MODEL_NAMES, WITH_INTERVALS, make_model

LEVELS = (80, 95)
FALLBACK = "fallback_mean"
COMBINATION = "combination"
# A product needs this many open days besides the backtest windows before models are fitted to it.
MIN_FIT_DAYS = 14


@dataclass
class EngineOptions:
    horizon: int = 24
    n_windows: int = 3
    season_length: int = 7
    models: tuple[str, ...] = tuple(name for name in MODEL_NAMES if name != "autoarima")
    ensemble: bool = True
    # The combination (mean of every candidate but the seasonal naive baseline) is served unless a single
    # model (or the best two) backtests this much better (0.2: a 20 % lower squared error). Choosing per
    # product on three origins is noisy; the combination is the robust default. None: no combination.
    combination_margin: float | None = 0.2
    # AutoARIMA only for series at least this long (open days); its search costs seconds a series.
    arima_min_days: int = 600
    # The expensive models (AutoETS, AutoARIMA) only for these products (None: every product).
    expensive_ids: set[str] | None = None
    n_jobs: int = 1
    dask_scheduler: Any = None

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise ValueError("The forecast horizon must be at least one day")
        if self.n_windows < 3:
            raise ValueError("The backtest needs at least 3 origins")


@dataclass
class ProductForecast:
    product_id: str
    model: str
    mean: np.ndarray
    lo: dict[int, np.ndarray]
    hi: dict[int, np.ndarray]
    residuals: np.ndarray  # backtest actual minus forecast, windows x horizon
    scores: dict[str, float] = field(default_factory=dict)  # backtest MSE per candidate
    scale: float = 1.0  # mean daily demand of the recent history: scales pooled errors to this product


@dataclass
class PanelForecast:
    products: dict[str, ProductForecast]
    # Every candidate's backtest and final forecasts, for reports (model -> product -> values).
    candidate_forecasts: dict[str, dict[str, np.ndarray]]
    backtest: dict[str, dict[str, np.ndarray]]  # model -> product -> windows x horizon predictions
    actuals: dict[str, np.ndarray]  # product -> windows x horizon
    fit_seconds: dict[str, float]


def _statsforecast(models: Sequence[Any], options: EngineOptions):
    from statsforecast import StatsForecast

    return StatsForecast(models=list(models), freq=1, n_jobs=max(1, int(options.n_jobs)), fallback_model=None)


def _run(method: str, frame: pd.DataFrame, models: Sequence[Any], options: EngineOptions, **kwargs) -> pd.DataFrame:
    """StatsForecast.<method> on the frame, in-process or on the Dask cluster."""
    sf = _statsforecast(models, options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if options.dask_scheduler is None:
            result = getattr(sf, method)(df=frame, **kwargs)
        else:
            result = _run_on_dask(sf, method, frame, options.dask_scheduler, **kwargs)
    return result.reset_index(drop=True) if "unique_id" in result.columns else result.reset_index()


def _run_on_dask(sf, method: str, frame: pd.DataFrame, scheduler: Any, **kwargs) -> pd.DataFrame:
    import dask.dataframe as dd
    from distributed import Client

    client = scheduler if isinstance(scheduler, Client) else Client(str(scheduler), set_as_default=False)
    try:
        with client.as_current():
            partitions = max(1, min(64, frame["unique_id"].nunique() // 50))
            ddf = dd.from_pandas(frame, npartitions=partitions)
            result = getattr(sf, method)(df=ddf, **kwargs)
            result = result.compute() if hasattr(result, "compute") else result
    finally:
        if client is not scheduler:
            client.close()
    result["ds"] = result["ds"].astype(int)
    if "cutoff" in result.columns:
        result["cutoff"] = result["cutoff"].astype(int)
    return result.sort_values([c for c in ("unique_id", "cutoff", "ds") if c in result.columns])


def candidates_for(product_id: str, length: int, options: EngineOptions) -> tuple[str, ...]:
    names = []
    for name in options.models:
        if name in EXPENSIVE and options.expensive_ids is not None and product_id not in options.expensive_ids:
            continue
        if name == "autoarima" and length < options.arima_min_days:
            continue
        names.append(name)
    return tuple(names)


def forecast_panel(
    frame: pd.DataFrame, options: EngineOptions, progress: Callable[[float, str], None] | None = None
) -> PanelForecast:
    """Backtest, choose and forecast every product of the long frame (unique_id, ds, y)."""
    report = progress or (lambda fraction, message: None)
    frame = frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    lengths = frame.groupby("unique_id", sort=True).size()
    needed = options.n_windows * options.horizon + MIN_FIT_DAYS
    long_ids = [pid for pid, n in lengths.items() if n >= needed]
    groups: dict[tuple[str, ...], list[str]] = {}
    for pid in long_ids:
        groups.setdefault(candidates_for(pid, int(lengths[pid]), options), []).append(pid)

    backtest: dict[str, dict[str, np.ndarray]] = {name: {} for name in options.models}
    finals: dict[str, dict[str, np.ndarray]] = {name: {} for name in options.models}
    bounds: dict[str, dict[str, dict[str, np.ndarray]]] = {name: {} for name in options.models}
    actuals: dict[str, np.ndarray] = {}
    fit_seconds = dict.fromkeys(options.models, 0.0)
    total_models = sum(len(names) for names in groups) or 1
    done = 0
    for names, ids in groups.items():
        subset = frame[frame["unique_id"].isin(ids)]
        for name in names:
            started = time.perf_counter()
            model = make_model(name, options.season_length)
            cv = _run(
                "cross_validation", subset, [model], options,
                h=options.horizon, n_windows=options.n_windows, step_size=options.horizon,
                # The expensive models are fitted once, at the first origin, and carried forward; the
                # cheap ones (which have no `forward`) are refitted at each origin.
                refit=name not in EXPENSIVE,
            )
            for pid, rows in cv.groupby("unique_id", sort=False):
                shape = (options.n_windows, options.horizon)
                backtest[name][pid] = rows[name].to_numpy(dtype=float).reshape(shape)
                actuals.setdefault(pid, rows["y"].to_numpy(dtype=float).reshape(shape))
            levels = list(LEVELS) if name in WITH_INTERVALS else None
            fc = _run("forecast", subset, [model], options, h=options.horizon, **({"level": levels} if levels else {}))
            for pid, rows in fc.groupby("unique_id", sort=False):
                finals[name][pid] = np.clip(rows[name].to_numpy(dtype=float), 0, None)
                if levels:
                    bounds[name][pid] = {
                        col: np.clip(rows[col].to_numpy(dtype=float), 0, None) for col in rows.columns if col.startswith(f"{name}-")
                    }
            fit_seconds[name] += time.perf_counter() - started
            done += 1
            report(done / total_models, f"{name}: {len(ids)} products")

    products: dict[str, ProductForecast] = {}
    for pid in long_ids:
        products[pid] = _choose(pid, backtest, finals, bounds, actuals[pid], options)
    for pid, values in frame[~frame["unique_id"].isin(long_ids)].groupby("unique_id", sort=False)["y"]:
        products[pid] = _fallback(pid, values.to_numpy(dtype=float), options.horizon)
    for pid, values in frame.groupby("unique_id", sort=False)["y"]:
        products[pid].scale = recent_scale(values.to_numpy(dtype=float))
    return PanelForecast(products, finals, backtest, actuals, fit_seconds)


SCALE_DAYS = 60


def recent_scale(history: np.ndarray) -> float:
    """Mean demand per open day over the last SCALE_DAYS (never 0: a product with no recent sale gets a tiny one)."""
    recent = np.asarray(history, dtype=float)[-SCALE_DAYS:]
    return max(float(recent.mean()) if recent.size else 0.0, 1e-6)


def _choose(
    pid: str,
    backtest: dict[str, dict[str, np.ndarray]],
    finals: dict[str, dict[str, np.ndarray]],
    bounds: dict[str, dict[str, dict[str, np.ndarray]]],
    actual: np.ndarray,
    options: EngineOptions,
) -> ProductForecast:
    """The candidate (or the mean of the best two) with the lowest backtest mean squared error, unless the
    combination of all candidates is within `combination_margin` of it."""
    # A model that could not forecast at some origin (too little history for its window) is no candidate.
    candidates = {
        name: preds[pid] for name, preds in backtest.items()
        if pid in preds and np.isfinite(preds[pid]).all() and np.isfinite(finals[name].get(pid, np.nan)).all()
    }
    if not candidates:
        return _fallback(pid, np.concatenate([actual.ravel()]), actual.shape[1])
    forecasts = {name: finals[name][pid] for name in candidates}
    scores = {name: float(np.mean((actual - pred) ** 2)) for name, pred in candidates.items()}
    ranked = sorted(scores, key=lambda name: (scores[name], name))
    best = ranked[0]
    if options.ensemble and len(ranked) > 1:
        pair = (ranked[0], ranked[1])
        name = f"ensemble({pair[0]}+{pair[1]})"
        candidates[name] = (candidates[pair[0]] + candidates[pair[1]]) / 2
        forecasts[name] = (forecasts[pair[0]] + forecasts[pair[1]]) / 2
        scores["ensemble"] = scores[name] = float(np.mean((actual - candidates[name]) ** 2))
        if scores[name] < scores[best]:
            best = name
    members = [name for name in ranked if name != "seasonal_naive"]
    if options.combination_margin is not None and len(members) > 1:
        candidates[COMBINATION] = np.mean([candidates[name] for name in members], axis=0)
        forecasts[COMBINATION] = np.mean([forecasts[name] for name in members], axis=0)
        scores[COMBINATION] = float(np.mean((actual - candidates[COMBINATION]) ** 2))
        if not scores[best] < (1 - options.combination_margin) * scores[COMBINATION]:
            best = COMBINATION
    residuals = actual - candidates[best]
    mean = forecasts[best]
    lo, hi = {}, {}
    model_bounds = bounds.get(best, {}).get(pid)
    for level in LEVELS:
        if model_bounds:
            lo[level], hi[level] = model_bounds[f"{best}-lo-{level}"], model_bounds[f"{best}-hi-{level}"]
        else:
            lo[level], hi[level] = empirical_interval(mean, residuals, level)
    return ProductForecast(pid, best, mean, lo, hi, residuals, scores)


def empirical_interval(mean: np.ndarray, residuals: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
    """The central `level` % interval around `mean` from the quantiles of backtest errors (pooled over steps)."""
    errors = np.asarray(residuals, dtype=float).ravel()
    if errors.size == 0:
        return mean.copy(), mean.copy()
    tail = (100 - level) / 200
    low, high = np.quantile(errors, [tail, 1 - tail])
    return np.clip(mean + low, 0, None), np.clip(mean + high, 0, None)


def _fallback(pid: str, history: np.ndarray, horizon: int) -> ProductForecast:
    """Too short to backtest: the mean daily demand so far, errors from the history itself."""
    level_value = float(history.mean()) if history.size else 0.0
    mean = np.full(horizon, level_value)
    residuals = (history - level_value).reshape(1, -1) if history.size else np.zeros((1, 1))
    lo, hi = {}, {}
    for level in LEVELS:
        lo[level], hi[level] = empirical_interval(mean, residuals, level)
    return ProductForecast(pid, FALLBACK, mean, lo, hi, residuals, {})
