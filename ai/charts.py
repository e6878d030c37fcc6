"""Server-rendered SVG line charts for the admin (no JavaScript, no CDN).

    line_chart_svg([("loss", [(0, 2.3), (1, 1.9)])], y_label="loss")

x values may be numbers, dates or datetimes; y values numbers (None leaves a gap).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#be185d")
Point = tuple[float | date | datetime, float | None]
Series = tuple[str, Sequence[Point]]


def _x_number(value) -> float:
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    return float(value)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values covering low..high."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high == low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(n * step, 12) for n in range(first, last + 1)]


def _format(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.01:
        return f"{value:.3g}"
    return f"{value:.4g}"


CHAR_WIDTH = 6.6  # a generous average advance of an 11 px sans-serif character


def label_x(x: float, text: str, width: int, margin: float = 2.0) -> float:
    """Where to centre a label at x so that the whole text stays inside a chart `width` wide."""
    half = len(text) * CHAR_WIDTH / 2 + margin
    return min(max(x, half), width - half)


def _numeric(series: list[tuple[str, list]]) -> list[list[tuple[float, float | None]]]:
    """Each series' points as floats; a missing or non-finite y becomes None (a gap)."""
    return [
        [(_x_number(x), float(y)) if y is not None and math.isfinite(float(y)) else (_x_number(x), None) for x, y in pts]
        for _, pts in series
    ]


def _empty_svg(label: str, width: int, message: str) -> SafeString:
    return mark_safe(
        f'<svg class="ai-chart" role="img" aria-label="{label}" width="{width}" height="60" '
        f'viewBox="0 0 {width} 60" xmlns="http://www.w3.org/2000/svg">'
        f'<text x="{width / 2}" y="34" text-anchor="middle" fill="#666" font-size="13">{escape(message)}</text></svg>'
    )


def _y_range(ys: list[float], y_min: float | None) -> tuple[float, float, list[float]]:
    """The y axis' low and high ends and its ticks; a flat line gets some room around it."""
    y_lo = min(ys) if y_min is None else min(y_min, min(ys))
    y_hi = max(ys)
    if y_hi == y_lo:
        pad = (abs(y_hi) or 1.0) * 0.5
        y_hi = y_hi + pad
        if y_min is None:
            y_lo = y_lo - pad
    y_ticks = nice_ticks(y_lo, y_hi)
    return min(y_lo, y_ticks[0]), max(y_hi, y_ticks[-1]), y_ticks


def _x_axis(x_lo: float, x_hi: float, dated: bool) -> tuple[list[float], list[str]]:
    """The x ticks and their labels: five evenly spaced dates, or round numbers inside the data's range."""
    if dated:
        x_ticks = [x_lo + (x_hi - x_lo) * i / 4 for i in range(5)] if x_hi > x_lo else [x_lo]
        return x_ticks, [datetime.fromtimestamp(x, tz=UTC).strftime("%Y-%m-%d") for x in x_ticks]
    x_ticks = [x for x in nice_ticks(x_lo, x_hi) if x_lo <= x <= x_hi] or [x_lo]
    return x_ticks, [_format(x) for x in x_ticks]


@dataclass(frozen=True)
class _Plot:
    """The plotting area in pixels and the data ranges it maps."""

    left: int
    top: int
    width: float
    height: float
    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float

    def px(self, x: float) -> float:
        return self.left + (self.width * (x - self.x_lo) / (self.x_hi - self.x_lo) if self.x_hi > self.x_lo else self.width / 2)

    def py(self, y: float) -> float:
        return self.top + self.height - self.height * (y - self.y_lo) / (self.y_hi - self.y_lo)


def _segments(plot: _Plot, pts: list[tuple[float, float | None]]) -> list[list[str]]:
    """Runs of consecutive points as "x,y" pixel strings, split where a y is missing."""
    segments: list[list[str]] = []
    current: list[str] = []
    for x, y in pts:
        if y is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(f"{plot.px(x):.1f},{plot.py(y):.1f}")
    if current:
        segments.append(current)
    return segments


def polyline_svg(
    plot: _Plot, name: str, pts: Sequence[tuple[float, float | None]], colour: str, *,
    series: str = "", dash: str = "", radius: float = 2.5, stroke_width: float = 1.8,
) -> list[str]:
    """One series as SVG: a polyline per unbroken run of points, a dot for a lone point (None breaks the line).

    `series` names it in a data-series attribute (for tests and styling); `dash` is a stroke-dasharray."""
    tag = f'data-series="{series}" ' if series else ""
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    parts = []
    for segment in _segments(plot, list(pts)):
        if len(segment) == 1:
            cx, cy = segment[0].split(",")
            parts.append(f'<circle {tag}cx="{cx}" cy="{cy}" r="{radius}" fill="{colour}"/>')
        else:
            parts.append(
                f'<polyline {tag}fill="none" stroke="{colour}" stroke-width="{stroke_width}"{dashed} '
                f'points="{" ".join(segment)}"><title>{escape(name)}</title></polyline>'
            )
    return parts


def line_chart_svg(
    series: Iterable[Series],
    *,
    width: int = 640,
    height: int = 260,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    y_min: float | None = None,
    y_format: Callable[[float], str] | None = None,
    empty_message: str = "No data yet",
) -> SafeString:
    """An accessible SVG line chart of one or more named series (a legend when there are several)."""
    named = [(str(name), [(x, y) for x, y in points]) for name, points in series]
    dated = any(isinstance(x, (date, datetime)) for _, points in named for x, _ in points)
    numeric = _numeric(named)
    xs = [x for pts in numeric for x, _ in pts]
    ys = [y for pts in numeric for _, y in pts if y is not None]
    label = escape(title or y_label or "chart")
    if not ys:
        return _empty_svg(label, width, empty_message)
    left, right, top, bottom = 64, 16, 28 if title else 14, 44
    if len(named) > 1:
        bottom += 20
    y_lo, y_hi, y_ticks = _y_range(ys, y_min)
    plot = _Plot(left, top, width - left - right, height - top - bottom, min(xs), max(xs), y_lo, y_hi)
    fmt = y_format or _format
    axis_y = top + plot.height
    parts = [
        f'<svg class="ai-chart" role="img" aria-label="{label}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
        f"<title>{label}</title>",
    ]
    if title:
        parts.append(f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>')
    for tick in y_ticks:
        y = plot.py(tick)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#444">{escape(fmt(tick))}</text>')
    x_ticks, x_text = _x_axis(plot.x_lo, plot.x_hi, dated)
    for x, text in zip(x_ticks, x_text, strict=True):
        parts.append(
            f'<text x="{label_x(plot.px(x), text, width):.1f}" y="{axis_y + 16}" text-anchor="middle" '
            f'fill="#444">{escape(text)}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{axis_y}" y2="{axis_y}" stroke="#9ca3af"/>'
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{axis_y}" stroke="#9ca3af"/>'
    )
    if x_label:
        parts.append(f'<text x="{left + plot.width / 2}" y="{axis_y + 32}" text-anchor="middle">{escape(x_label)}</text>')
    if y_label:
        parts.append(
            f'<text transform="translate(14 {top + plot.height / 2}) rotate(-90)" text-anchor="middle">{escape(y_label)}</text>'
        )
    for index, ((name, _), pts) in enumerate(zip(named, numeric, strict=True)):
        colour = PALETTE[index % len(PALETTE)]
        parts.extend(polyline_svg(plot, name, pts, colour))
        if len(named) > 1:
            lx, ly = left + index * 140, height - 10
            parts.append(f'<rect x="{lx}" y="{ly - 9}" width="12" height="4" fill="{colour}"/>')
            parts.append(f'<text x="{lx + 16}" y="{ly - 4}">{escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
