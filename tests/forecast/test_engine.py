"""Backtest, per-product choice and intervals on tiny generated series (cheap models only)."""
from __future__ import annotations

import numpy as np
import pytest

from ai.forecast.engine import FALLBACK, EngineOptions, forecast_panel
from ai.forecast.series import ShopCalendar, build_panel, sales_frame

from .conftest import generated_sales

CHEAP = ("croston_sba", "tsb", "seasonal_naive", "window_average")


@pytest.fixture(scope="module")
def result():
    panel = build_panel(sales_frame(generated_sales()), calendar=ShopCalendar(frozenset({5})))
    return forecast_panel(panel.frame, EngineOptions(horizon=6, season_length=6, models=CHEAP, ensemble=True))


def test_a_weekly_product_gets_the_seasonal_naive_with_its_pattern(result):
    weekly = result.products["weekly"]
    assert weekly.model == "seasonal_naive"
    assert weekly.scores["seasonal_naive"] == 0.0
    # The series ends on a Sunday: next come Monday .. Friday, Sunday.
    assert weekly.mean.tolist() == [5.0, 3.0, 3.0, 4.0, 8.0, 2.0]
    assert weekly.residuals.shape == (3, 6) and not weekly.residuals.any()


def test_every_candidate_was_backtested_at_three_origins(result):
    for name in CHEAP:
        assert result.backtest[name]["lumpy"].shape == (3, 6)
    # The last 18 of 72 open days (54..71): days 56, 60, 64 and 68 sold 6 each.
    assert result.actuals["lumpy"].sum() == 6 * 4


def test_intervals_contain_the_mean(result):
    for forecast in result.products.values():
        for level in (80, 95):
            assert np.all(forecast.lo[level] <= forecast.mean + 1e-9)
            assert np.all(forecast.mean <= forecast.hi[level] + 1e-9)
        assert np.all(forecast.lo[95] <= forecast.lo[80] + 1e-9)


def test_a_product_too_short_to_backtest_falls_back_to_its_mean(result):
    new = result.products["new"]
    assert new.model == FALLBACK
    assert new.mean.tolist() == [2.0] * 6


def test_the_ensemble_of_the_best_two_is_chosen_when_it_backtests_better():
    rng = np.random.default_rng(0)
    # Noise around a level: the mean of two smoothers beats either alone on some products.
    from ai.forecast.series import sales_frame as frame_of

    from .conftest import open_days

    rows = [(d, f"p{p}", float(rng.poisson(3 + p))) for p in range(6) for d in open_days(10)]
    panel = build_panel(frame_of(rows), calendar=ShopCalendar(frozenset({5})))
    result = forecast_panel(
        panel.frame, EngineOptions(horizon=6, season_length=6, models=CHEAP, ensemble=True, combination_margin=None)
    )
    chosen = [f.model for f in result.products.values()]
    assert any(model.startswith("ensemble(") for model in chosen)
    for forecast in result.products.values():
        if forecast.model.startswith("ensemble("):
            first, second = forecast.model[len("ensemble("):-1].split("+")
            expected = (result.candidate_forecasts[first][forecast.product_id] + result.candidate_forecasts[second][forecast.product_id]) / 2
            assert np.allclose(forecast.mean, expected)
            assert forecast.scores["ensemble"] < min(forecast.scores[m] for m in CHEAP)


def test_options_refuse_fewer_than_three_origins():
    with pytest.raises(ValueError, match="at least 3 origins"):
        EngineOptions(n_windows=2)


def test_the_combination_is_served_unless_one_model_is_clearly_better():
    rng = np.random.default_rng(0)
    from .conftest import open_days

    rows = [(d, f"p{p}", float(rng.poisson(3 + p))) for p in range(4) for d in open_days(10)]
    rows += [(d, "weekly", [5, 3, 3, 4, 8, 0, 2][d.weekday()]) for d in open_days(10)]
    panel = build_panel(sales_frame(rows), calendar=ShopCalendar(frozenset({5})))
    result = forecast_panel(panel.frame, EngineOptions(horizon=6, season_length=6, models=CHEAP))
    members = [m for m in CHEAP if m != "seasonal_naive"]
    for pid in ("p0", "p1", "p2", "p3"):
        forecast = result.products[pid]
        if forecast.model == "combination":
            expected = np.mean([result.candidate_forecasts[m][pid] for m in members], axis=0)
            assert np.allclose(forecast.mean, expected)
        else:  # a single model (or pair) only when its backtest error is 20 % below the combination's
            assert forecast.scores[forecast.model] < 0.8 * forecast.scores["combination"]
    assert any(result.products[pid].model == "combination" for pid in ("p0", "p1", "p2", "p3"))
    assert result.products["weekly"].model == "seasonal_naive"  # exact: far better than any combination
    assert result.products["weekly"].scale == pytest.approx(np.mean(panel.series("weekly")[-60:]))
