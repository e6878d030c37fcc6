"""Forecast accuracy: RMSSE and MASE (scaled by the in-sample one-step naive error), and bias."""
from __future__ import annotations

from typing import Any

import numpy as np


def naive_scale(history: np.ndarray, squared: bool) -> float:
    """Mean (squared or absolute) one-step change of the training series; 0 for a constant series."""
    diffs = np.diff(np.asarray(history, dtype=float))
    if diffs.size == 0:
        return 0.0
    return float(np.mean(diffs**2)) if squared else float(np.mean(np.abs(diffs)))


def rmsse(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray) -> float | None:
    """Root mean squared scaled error (M5); None when the history has no change to scale by."""
    scale = naive_scale(history, squared=True)
    if scale <= 0:
        return None
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(forecast)) ** 2) / scale))


def mase(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray) -> float | None:
    scale = naive_scale(history, squared=False)
    if scale <= 0:
        return None
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(forecast))) / scale)


def bias(actuals: list[np.ndarray], forecasts: list[np.ndarray]) -> float | None:
    """(total forecast - total actual) / total actual: +0.1 means 10 % over-forecast."""
    total_actual = float(sum(np.sum(a) for a in actuals))
    if total_actual <= 0:
        return None
    return (float(sum(np.sum(f) for f in forecasts)) - total_actual) / total_actual


def summarise(
    actuals: dict[str, np.ndarray],
    forecasts: dict[str, np.ndarray],
    histories: dict[str, np.ndarray],
    weights: dict[str, float] | None = None,
) -> dict[str, float | None]:
    """Mean RMSSE and MASE over the products (those with a scale), pooled bias, and the RMSSE weighted by
    `weights` (revenue) when given."""
    rmsses: list[Any] = []
    mases: list[Any] = []
    pairs: tuple[list[Any], list[Any]] = ([], [])
    weighted: list[Any] = []
    for pid, actual in actuals.items():
        if pid not in forecasts:
            continue
        forecast = forecasts[pid][: len(actual)]
        pairs[0].append(actual)
        pairs[1].append(forecast)
        value = rmsse(actual, forecast, histories[pid])
        if value is not None:
            rmsses.append(value)
            if weights is not None:
                weighted.append((weights.get(pid, 0.0), value))
        value = mase(actual, forecast, histories[pid])
        if value is not None:
            mases.append(value)
    total_weight = sum(w for w, _ in weighted)
    return {
        "rmsse": float(np.mean(rmsses)) if rmsses else None,
        "mase": float(np.mean(mases)) if mases else None,
        "bias": bias(*pairs),
        "rmsse_revenue_weighted": sum(w * v for w, v in weighted) / total_weight if total_weight > 0 else None,
        "products": len(rmsses),
    }
