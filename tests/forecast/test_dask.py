"""The demand kind's fits on a Dask cluster (statsforecast's fugue backend), chosen by the
AI_FORECAST_DASK_SCHEDULER setting: a local `dask.distributed` cluster in this process, reached over TCP
like a real one, gives the same forecasts as the in-process fits."""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from ai.models import ModelVersion, TrainingRun
from ai.registry import load_version
from ai.training import start_run
from tests.factories import ProductFactory

from .conftest import open_days
from .shop_history import place

pytestmark = pytest.mark.slow
# AutoETS brings the model's own intervals; the other two get empirical ones from the backtest.
OPTIONS = {"models": "autoets,seasonal_naive,croston_sba", "horizon_days": 14, "n_jobs": 1}


@pytest.fixture
def dask_cluster():
    from distributed import LocalCluster

    # One worker thread in this process (processes=False) but a TCP scheduler: the path a tcp://host:8786 takes.
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        yield cluster


def train(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run("demand", OPTIONS, via="test")
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.traceback
    return run, load_version(ModelVersion.objects.get(training_run=run))


def test_dask_cluster_gives_the_in_process_forecasts(
    db, settings, artifact_root, dask_cluster, django_capture_on_commit_callbacks
):
    products = [ProductFactory(), ProductFactory(), ProductFactory()]
    days = open_days(10, timezone.localdate() - timedelta(days=70))
    rng = np.random.default_rng(7)
    # Noisy weekly demand at three levels: no model is exact, so no choice hangs on a tie at zero error.
    for product, level in zip(products, (1.0, 2.5, 6.0), strict=True):
        for day in days:
            if (quantity := int(rng.poisson(level * (1.6 if day.weekday() == 4 else 1.0)))) > 0:
                place(product, day, quantity)

    settings.AI_FORECAST_DASK_SCHEDULER = ""
    local_run, local = train(django_capture_on_commit_callbacks)
    assert not dask_cluster.scheduler.task_prefixes  # nothing ran on the cluster yet

    settings.AI_FORECAST_DASK_SCHEDULER = dask_cluster.scheduler_address
    assert settings.AI_FORECAST_DASK_SCHEDULER.startswith("tcp://")
    dask_run, remote = train(django_capture_on_commit_callbacks)
    assert dask_cluster.scheduler.task_prefixes  # the fits ran as Dask tasks
    assert f"on the Dask cluster at {dask_cluster.scheduler_address}" in dask_run.log_tail
    assert "Dask" not in local_run.log_tail

    assert remote.product_ids == local.product_ids == sorted(p.pk for p in products)
    assert remote.models == local.models
    assert "autoets" in local.report["models"]
    for name in ("mean", "lo80", "hi80", "lo95", "hi95", "residuals"):
        np.testing.assert_allclose(remote.arrays[name], local.arrays[name], rtol=1e-5, atol=1e-5, err_msg=name)
    assert (local.arrays["hi95"] > local.arrays["mean"]).all()  # real intervals, compared above
    for name, scores in local.report["models"].items():
        assert remote.report["models"][name]["rmsse"] == pytest.approx(scores["rmsse"], abs=1e-3), name
