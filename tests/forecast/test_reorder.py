"""Reorder maths against hand-computed examples."""
from __future__ import annotations

import numpy as np
import pytest

from ai.forecast import reorder

RESIDUALS = np.array([[1.0, -1.0, 2.0, 0.0], [0.0, 0.0, 1.0, 1.0]])


@pytest.mark.parametrize(
    "forecast, days, start, expected",
    [
        ([2, 2, 2, 4], 3, 0, 6.0),
        ([2, 2, 2, 4], 2.5, 0, 5.0),
        ([2, 2, 2, 4], 2, 2, 6.0),
        ([1, 2], 4, 0, 7.0),  # beyond the horizon the last day repeats: 1 + 2 + 2 + 2
        ([1, 2], 0, 0, 0.0),
    ],
)
def test_demand_over(forecast, days, start, expected):
    assert reorder.demand_over(forecast, days, start) == pytest.approx(expected)


def test_lead_time_errors_sum_every_run_of_lead_days():
    # Row 1: 1-1=0, -1+2=1, 2+0=2; row 2: 0, 1, 2.
    assert reorder.lead_time_errors(RESIDUALS, 2).tolist() == [0.0, 1.0, 2.0, 0.0, 1.0, 2.0]
    # Longer than the horizon: whole-horizon sums (2 and 2) scaled by sqrt(16 / 4) = 2.
    assert reorder.lead_time_errors(RESIDUALS, 16).tolist() == [4.0, 4.0]


@pytest.mark.parametrize("level, expected", [(0.5, 1.0), (0.95, 2.0), (0.2, 0.0)])
def test_safety_stock_is_the_error_quantile_never_negative(level, expected):
    assert reorder.safety_stock(np.array([0, 1, 2, 0, 1, 2]), level) == expected
    assert reorder.safety_stock(np.array([-3.0, -2.0]), 0.95) == 0.0


def test_reorder_point_and_order_up_to():
    forecast = [2.0] * 10
    assert reorder.reorder_point(forecast, 3, safety=2) == 8.0
    assert reorder.order_up_to(forecast, 3, 7, safety=2) == 22.0


@pytest.mark.parametrize(
    "stock, forecast, expected",
    [(5, [2, 2, 2], 2.5), (10, [2, 2, 2], 5.0), (0, [2, 2], 0.0), (10, [1, 0], None), (3, [0, 3, 3], 2.0)],
)
def test_days_of_cover(stock, forecast, expected):
    assert reorder.days_of_cover(stock, forecast) == expected


@pytest.mark.parametrize(
    "target, stock, on_order, minimum, pack, expected",
    [
        (22, 3, 5, 20, 6, 24),  # need 14, minimum 20, packs of 6 -> 24
        (22, 3, 5, 1, 6, 18),  # need 14 -> 3 packs
        (22, 3, 5, 1, 1, 14),
        (7.2, 0, 0, 1, 1, 8),  # fractions round up
        (10, 8, 2, 50, 10, 0),  # nothing needed: no minimum either
    ],
)
def test_suggested_quantity_rounds_to_packs_and_respects_the_minimum(target, stock, on_order, minimum, pack, expected):
    assert reorder.suggested_quantity(target, stock, on_order, minimum=minimum, pack_size=pack) == expected


def test_plan_puts_it_together():
    common = dict(
        daily_forecast=[2.0] * 10, residuals=RESIDUALS, on_order=0, lead_days=2, service_level=0.95,
        review_days=3, minimum=1, pack_size=5, unit_price=4.5,
    )
    low = reorder.plan(stock=5, **common)
    # Lead-time errors [0,1,2,0,1,2] -> 95 % quantile 2; reorder point 2*2 + 2 = 6; order up to 2*5 + 2 = 12.
    assert (low.safety_stock, low.reorder_point, low.order_up_to) == (2.0, 6.0, 12.0)
    assert low.suggested_quantity == 10  # need 7, packs of 5
    assert low.days_of_cover == 2.5 and low.urgency_days == 0.5
    assert low.revenue_at_risk_per_day == 9.0
    assert reorder.plan(stock=7, **common).suggested_quantity == 0  # above the reorder point
    assert reorder.plan(stock=3, **{**common, "on_order": 10}).suggested_quantity == 0  # already on order


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.1])
def test_service_levels_outside_zero_one_are_refused(level):
    with pytest.raises(reorder.ReorderInputError, match="strictly between 0 and 1"):
        reorder.safety_stock(np.array([1.0]), level)


@pytest.mark.parametrize("lead", [-1, 2.5])
def test_negative_or_fractional_lead_times_are_refused(lead):
    with pytest.raises(reorder.ReorderInputError, match="lead time"):
        reorder.reorder_point([1.0], lead, 0)


def test_bad_pack_and_minimum_are_refused():
    with pytest.raises(reorder.ReorderInputError, match="pack size"):
        reorder.suggested_quantity(10, 0, 0, pack_size=0)
    with pytest.raises(reorder.ReorderInputError, match="minimum"):
        reorder.suggested_quantity(10, 0, 0, minimum=-1)


def test_pooled_quantile_scales_each_products_errors():
    residuals = {"a": np.array([[1.0, 1.0]]), "b": np.array([[4.0, 0.0]])}
    # Lead time 1: a's errors 1, 1 (scale 1); b's 4, 0 (scale 2) -> 2, 0; pooled [0, 1, 1, 2], median 1.
    assert reorder.pooled_quantile(residuals, {"a": 1.0, "b": 2.0}, 1, 0.5) == 1.0
    common = dict(
        daily_forecast=[2.0] * 10, residuals=RESIDUALS, stock=5, on_order=0, lead_days=2, service_level=0.95,
        review_days=3, minimum=1, pack_size=1, unit_price=1.0,
    )
    # Own quantile 2; pooled 1.5 x scale 2 = 3 wins.
    assert reorder.plan(pooled=1.5, scale=2.0, **common).safety_stock == 3.0
    assert reorder.plan(pooled=0.5, scale=2.0, **common).safety_stock == 2.0
