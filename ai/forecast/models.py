"""The statsforecast models the demand forecasts choose from, by name."""
from __future__ import annotations

from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    AutoARIMA,
    AutoETS,
    CrostonSBA,
    SeasonalNaive,
    WindowAverage,
)

# Every model a product may be given, in the order of the reports.
MODEL_NAMES = (
    "autoets",
    "autoarima",
    "croston_sba",
    "adida",
    "imapa",
    "tsb",
    "seasonal_naive",
    "window_average",
)
# Models whose fits cost real time; the cheap ones fit thousands of series a second.
EXPENSIVE = frozenset({"autoets", "autoarima"})
# Models that give their own prediction intervals; the others get empirical ones from the backtest.
WITH_INTERVALS = frozenset({"autoets", "autoarima", "seasonal_naive"})
WINDOW = 28


def make_model(name: str, season_length: int):
    """A statsforecast model instance whose alias is `name`."""
    season = max(1, int(season_length))
    factories = {
        "autoets": lambda: AutoETS(season_length=season, alias=name),
        # A bounded search: daily retail series rarely need high orders, and the full search costs seconds a series.
        "autoarima": lambda: AutoARIMA(
            season_length=season, max_p=2, max_q=2, max_P=1, max_Q=1, max_order=4, approximation=True, alias=name
        ),
        "croston_sba": lambda: CrostonSBA(alias=name),
        "adida": lambda: ADIDA(alias=name),
        "imapa": lambda: IMAPA(alias=name),
        "tsb": lambda: TSB(alpha_d=0.2, alpha_p=0.2, alias=name),
        "seasonal_naive": lambda: SeasonalNaive(season_length=season, alias=name),
        "window_average": lambda: WindowAverage(window_size=WINDOW, alias=name),
    }
    try:
        return factories[name]()
    except KeyError:
        raise ValueError(f"Unknown forecasting model {name!r} (known: {', '.join(MODEL_NAMES)})") from None


def parse_models(text: str | None, default: tuple[str, ...] = MODEL_NAMES) -> tuple[str, ...]:
    """A comma-separated list of model names, checked."""
    if not text:
        return default
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in MODEL_NAMES]
    if unknown:
        raise ValueError(f"Unknown forecasting model(s) {', '.join(unknown)} (known: {', '.join(MODEL_NAMES)})")
    return names
