"""The `demand` kind trained on real shop orders through the training pipeline."""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from ai import registry
from ai.conf import ai_settings
from ai.forecast import service
from ai.models import ModelVersion, TrainingRun
from ai.training import start_run
from shop.models import OrderStatus
from tests.factories import ProductFactory

from .conftest import WEEKLY
from .shop_history import place, weekly_history

OPTIONS = {"models": "seasonal_naive,window_average,croston_sba,tsb", "horizon_days": 14, "n_jobs": 1}


def test_demand_lines_leave_cancelled_orders_out_and_count_refunds_as_returns(db):
    product = ProductFactory()
    day = weekly_history([product], weeks=1)[1]
    place(product, day, 7, status=OrderStatus.CANCELLED)
    place(product, day, 4, status=OrderStatus.REFUNDED)
    lines = list(ai_settings.adapter().iter_demand_lines())
    on_day = sorted(line.quantity for line in lines if line.at.date() == day and line.quantity > 0)
    assert on_day == sorted([WEEKLY[day.weekday()], 4])  # the cancelled 7 never sold
    returns = [line for line in lines if line.quantity < 0]
    assert [(line.product_id, line.quantity) for line in returns] == [(product.pk, -4)]  # returned when refunded


@pytest.mark.slow
def test_demand_run_stores_forecasts_with_its_version(db, artifact_root, django_capture_on_commit_callbacks):
    products = [ProductFactory(), ProductFactory()]
    days = weekly_history(products, weeks=10)
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run("demand", OPTIONS, via="test")
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.traceback
    version = ModelVersion.objects.get(training_run=run)
    assert (version.kind, version.status) == ("demand", ModelVersion.Status.LIVE)
    assert version.metrics["rmsse"] == pytest.approx(-version.metrics["neg_rmsse"])

    forecasts = service.live_forecasts()
    weekly = forecasts.get(products[0].pk)
    assert weekly.model == "seasonal_naive"
    # Twelve open days in 14 calendar days; the next days repeat the weekly pattern.
    assert len(weekly.days) == 12 and all(d.weekday() != 5 for d in weekly.days)
    assert weekly.days[0] > days[-1]
    assert weekly.mean.tolist() == [[5, 3, 3, 4, 8, 0, 2][d.weekday()] for d in weekly.days]
    assert weekly.history[-1] == [5, 3, 3, 4, 8, 0, 2][days[-1].weekday()]
    assert forecasts.get(10**9) is None

    report = forecasts.report
    assert set(report["models"]) == {"seasonal_naive", "window_average", "croston_sba", "tsb", "auto"}
    assert report["models"]["seasonal_naive"]["rmsse"] >= 0
    assert set(report["abc"]) <= {"A", "B", "C"} and report["abc"]
    total = forecasts.aggregate([p.pk for p in products])
    assert total["mean"][0] == pytest.approx(weekly.mean[0] + forecasts.get(products[1].pk).mean[0])
    assert all(lo <= m <= hi for lo, m, hi in zip(total["lo95"], total["mean"], total["hi95"], strict=True))


@pytest.mark.slow
def test_reorder_plan_from_the_live_forecast(db, artifact_root, django_capture_on_commit_callbacks):
    products = [ProductFactory(), ProductFactory()]
    weekly_history(products, weeks=10)
    with django_capture_on_commit_callbacks(execute=True):
        start_run("demand", OPTIONS, via="test")
    weekly = service.live_forecasts().get(products[0].pk)
    plan = service.reorder_plan(
        weekly, stock=10, on_order=0, lead_time_days=7, service_level=0.95, review_days=7, minimum=1, pack_size=6,
        unit_price=2.0,
    )
    # A perfect weekly forecast: no backtest error, no safety stock; a week (6 open days) sells 25.
    assert plan.safety_stock == 0 and plan.reorder_point == 25.0
    assert plan.order_up_to == 50.0 and plan.suggested_quantity == 42  # need 40 -> 7 packs of 6
    stockout = service.date_after_open_days(weekly, plan.days_of_cover)
    assert stockout is not None and stockout - weekly.days[0] < timedelta(days=7)
    assert np.isclose(plan.revenue_at_risk_per_day, weekly.mean.mean() * 2.0)


def test_demand_without_sales_fails_and_says_why(db, artifact_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run("demand", OPTIONS, via="test")
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert "No sales to forecast from yet" in run.error
    assert not ModelVersion.objects.filter(kind="demand").exists()
    assert registry.live_model("demand") is None


@pytest.mark.parametrize(
    "options, message",
    [({"n_windows": 2}, "between 3 and 20"), ({"horizon_days": 0}, "between 1 and 366"), ({"models": "prophet"}, "Unknown forecasting")],
)
def test_bad_options_are_refused(db, options, message):
    with pytest.raises(ValueError, match=message):
        start_run("demand", options, via="test")
