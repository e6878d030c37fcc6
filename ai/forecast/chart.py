"""The forecast chart of the admin: history, forecast and its 80 / 95 % bands, and the stock projection.

    forecast_chart_svg(history_days=..., history=..., days=..., mean=..., bands={80: (lo, hi), 95: (lo, hi)},
                       stock=12, reorder_point=25.0)

Drawn server-side in the style of `ai.charts` (no JavaScript). The upper panel is demand per open day
(units/day): the recent history, the point forecast, and the intervals as filled bands. The lower panel,
drawn when `stock` is given, is in units of stock: stock on hand projected by the point forecast
(without orders arriving) against the reorder point. Two panels, because a day's demand and a stock level
are different quantities on different scales.

Every drawn series carries `data-series` (history, forecast, band80, band95, stock-projection,
reorder-point) so that tests and scripts can find it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ai.charts import _format, _Plot, _x_number, label_x, nice_ticks, polyline_svg

HISTORY_COLOUR = "#374151"
FORECAST_COLOUR = "#2563eb"
BAND_COLOURS = {95: "#dbeafe", 80: "#93c5fd"}
STOCK_COLOUR = "#16a34a"
REORDER_COLOUR = "#dc2626"
LEFT, RIGHT = 64, 16
DEMAND_HEIGHT, STOCK_HEIGHT = 220, 130


def _finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def _y_axis(high: float) -> tuple[float, list[float]]:
    """From 0 to a round value at or above `high` (some room when everything is 0)."""
    ticks = nice_ticks(0.0, high if high > 0 else 1.0)
    return max(ticks[-1], high if high > 0 else 1.0), ticks


def _grid(plot: _Plot, ticks: list[float], width: int) -> list[str]:
    parts = []
    for tick in ticks:
        y = plot.py(tick)
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#444">{escape(_format(tick))}</text>')
    bottom = plot.top + plot.height
    parts.append(
        f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{bottom:.1f}" y2="{bottom:.1f}" stroke="#9ca3af"/>'
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{plot.top}" y2="{bottom:.1f}" stroke="#9ca3af"/>'
    )
    return parts


def _polyline(
    plot: _Plot, series: str, name: str, points: Sequence[tuple[float, float | None]], colour: str, dash: str = ""
) -> list[str]:
    return polyline_svg(plot, name, points, colour, series=series, dash=dash, radius=2, stroke_width=1.6)


def _band(plot: _Plot, level: int, xs: list[float], lo: Sequence[float] | np.ndarray, hi: Sequence[float] | np.ndarray) -> str:
    upper = [f"{plot.px(x):.1f},{plot.py(float(h)):.1f}" for x, h in zip(xs, hi, strict=True)]
    lower = [f"{plot.px(x):.1f},{plot.py(float(low)):.1f}" for x, low in zip(xs, lo, strict=True)]
    return (
        f'<polygon data-series="band{level}" fill="{BAND_COLOURS[level]}" stroke="none" '
        f'points="{" ".join(upper + lower[::-1])}"><title>{level} % prediction interval</title></polygon>'
    )


def _x_labels(plot: _Plot, days: list[date], y: float, width: int) -> list[str]:
    if not days:
        return []
    picks = sorted({round(i * (len(days) - 1) / 4) for i in range(5)})
    parts = []
    for index in picks:
        text = days[index].isoformat()
        x = label_x(plot.px(_x_number(days[index])), text, width)
        parts.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" fill="#444">{text}</text>')
    return parts


def stock_projection(stock: float, mean: Sequence[float] | np.ndarray) -> list[float]:
    """Stock on hand at the end of each forecast day when it sells the point forecast and nothing arrives."""
    return [max(0.0, float(stock) - float(used)) for used in np.cumsum(np.clip(np.asarray(mean, dtype=float), 0, None))]


def forecast_chart_svg(
    *,
    history_days: Sequence[date],
    history: Sequence[float] | np.ndarray,
    days: Sequence[date],
    mean: Sequence[float] | np.ndarray,
    bands: dict[int, tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]],
    stock: float | None = None,
    reorder_point: float | None = None,
    title: str = "",
    width: int = 760,
    empty_message: str = "No forecast yet",
) -> SafeString:
    """The SVG; `history` may hold NaN (before a product's first sale, or days without data): gaps."""
    label = escape(title or "Demand forecast")
    days = list(days)
    if not days:
        return mark_safe(
            f'<svg class="ai-chart forecast-chart" role="img" aria-label="{label}" width="{width}" height="60" '
            f'viewBox="0 0 {width} 60" xmlns="http://www.w3.org/2000/svg"><text x="{width / 2}" y="34" '
            f'text-anchor="middle" fill="#666" font-size="13">{escape(empty_message)}</text></svg>'
        )
    shown = [(day, float(value)) for day, value in zip(history_days, history, strict=True)]
    first = next((i for i, (_, value) in enumerate(shown) if math.isfinite(value)), len(shown))
    shown = shown[first:]  # nothing to draw before the first sale
    all_days = [day for day, _ in shown] + days
    top = 30 if title else 14
    legend_height = 22
    stock_level = None if stock is None else float(stock)
    with_stock = stock_level is not None
    height = top + DEMAND_HEIGHT + 24 + legend_height + ((STOCK_HEIGHT + 44) if with_stock else 0)
    x_lo, x_hi = _x_number(all_days[0]), _x_number(all_days[-1])

    demand_high = max(_finite([v for _, v in shown]) + _finite(mean) + [_max(band[1]) for band in bands.values()] + [0.0])
    y_hi, ticks = _y_axis(demand_high)
    demand = _Plot(LEFT, top, width - LEFT - RIGHT, DEMAND_HEIGHT, x_lo, x_hi, 0.0, y_hi)
    parts = [
        f'<svg class="ai-chart forecast-chart" role="img" aria-label="{label}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
        f"<title>{label}</title>",
    ]
    if title:
        parts.append(f'<text x="{LEFT}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>')
    parts.extend(_grid(demand, ticks, width))
    parts.append(
        f'<text transform="translate(14 {top + DEMAND_HEIGHT / 2}) rotate(-90)" text-anchor="middle">units per day</text>'
    )
    forecast_xs = [_x_number(day) for day in days]
    for level in sorted(bands, reverse=True):  # the wide band first, the narrow one on top
        lo, hi = bands[level]
        parts.append(_band(demand, level, forecast_xs, lo, hi))
    origin_x = demand.px(forecast_xs[0])
    parts.append(
        f'<line data-series="origin" x1="{origin_x:.1f}" x2="{origin_x:.1f}" y1="{top}" y2="{top + DEMAND_HEIGHT}" '
        f'stroke="#9ca3af" stroke-dasharray="2 3"/>'
    )
    history_points = [(_x_number(day), value if math.isfinite(value) else None) for day, value in shown]
    parts.extend(_polyline(demand, "history", "sold per day", history_points, HISTORY_COLOUR))
    forecast_points: list[tuple[float, float | None]] = [(x, float(value)) for x, value in zip(forecast_xs, mean, strict=True)]
    parts.extend(_polyline(demand, "forecast", "forecast (mean)", forecast_points, FORECAST_COLOUR))
    axis = top + DEMAND_HEIGHT
    parts.extend(_x_labels(demand, all_days, axis + 16, width))
    legend_y = axis + 24 + 12
    legend: list[tuple[str, str, str]] = [("history", HISTORY_COLOUR, "line"), ("forecast", FORECAST_COLOUR, "line")]
    legend += [(f"{level} % interval", BAND_COLOURS[level], "box") for level in sorted(bands)]

    if stock_level is not None:
        projection = stock_projection(stock_level, mean)
        stock_top = legend_y + 22
        stock_high = max([stock_level, float(reorder_point or 0.0), *projection])
        s_hi, s_ticks = _y_axis(stock_high)
        stock_plot = _Plot(LEFT, stock_top, width - LEFT - RIGHT, STOCK_HEIGHT, x_lo, x_hi, 0.0, s_hi)
        parts.extend(_grid(stock_plot, s_ticks, width))
        parts.append(
            f'<text transform="translate(14 {stock_top + STOCK_HEIGHT / 2}) rotate(-90)" text-anchor="middle">units in stock</text>'
        )
        points: list[tuple[float, float | None]] = [(forecast_xs[0], stock_level)]
        points += zip(forecast_xs[1:], projection[:-1], strict=True)
        parts.extend(_polyline(stock_plot, "stock-projection", "projected stock (no arrivals)", points, STOCK_COLOUR))
        if reorder_point is not None:
            y = stock_plot.py(float(reorder_point))
            parts.append(
                f'<line data-series="reorder-point" x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{REORDER_COLOUR}" stroke-width="1.4" stroke-dasharray="6 4"><title>reorder point '
                f"{float(reorder_point):.1f}</title></line>"
            )
        parts.extend(_x_labels(stock_plot, all_days, stock_top + STOCK_HEIGHT + 16, width))
        legend += [("projected stock", STOCK_COLOUR, "line")]
        if reorder_point is not None:
            legend += [("reorder point", REORDER_COLOUR, "line")]
    for index, (name, colour, shape) in enumerate(legend):
        lx = LEFT + index * 118
        mark = (
            f'<rect x="{lx}" y="{legend_y - 9}" width="12" height="10" fill="{colour}" stroke="#93a3b8"/>'
            if shape == "box" else f'<rect x="{lx}" y="{legend_y - 6}" width="12" height="4" fill="{colour}"/>'
        )
        parts.append(f'{mark}<text x="{lx + 16}" y="{legend_y}">{escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _max(values: Sequence[float] | np.ndarray) -> float:
    finite = _finite(values)
    return max(finite) if finite else 0.0


def product_chart_svg(forecast: Any, *, stock: float | None = None, reorder_point: float | None = None, title: str = "") -> SafeString:
    """The chart of one product's forecast (a `service.ProductDemand`)."""
    return forecast_chart_svg(
        history_days=forecast.history_days, history=forecast.history, days=forecast.days, mean=forecast.mean,
        bands={80: (forecast.lo80, forecast.hi80), 95: (forecast.lo95, forecast.hi95)},
        stock=stock, reorder_point=reorder_point, title=title,
    )


def group_chart_svg(live: Any, product_ids, *, title: str = "") -> SafeString:
    """The chart of a group's summed forecast (`DemandForecasts.aggregate`) over its summed history."""
    summed = live.aggregate(product_ids)
    if summed is None:
        return forecast_chart_svg(
            history_days=[], history=[], days=[], mean=[], bands={}, title=title,
            empty_message="None of these products has a forecast",
        )
    return forecast_chart_svg(
        history_days=live.history_days, history=group_history(live, product_ids), days=live.days, mean=summed["mean"],
        bands={level: (summed[f"lo{level}"], summed[f"hi{level}"]) for level in (80, 95)}, title=title,
    )


def group_history(live: Any, product_ids) -> np.ndarray:
    """Units sold per open day by the group (NaN on days before any of them had sold)."""
    rows = [live.index[int(pid)] for pid in product_ids if int(pid) in live]
    history = live.arrays["history"][rows]
    summed = np.nansum(history, axis=0)
    summed[np.isnan(history).all(axis=0)] = np.nan
    return summed
