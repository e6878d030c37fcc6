"""The sasrec kind warm-starts a retrain from the live version's weights (shared products by id)."""
from __future__ import annotations

import pytest

from ai import registry
from ai.models import ModelVersion, TrainingRun
from ai.training import start_run

from .conftest import add_events

OPTIONS = {"epochs": 3, "patience": 3, "hidden": 16, "layers": 1, "max_len": 10, "dropout": 0.0, "lr": 0.01}


@pytest.fixture
def walks(products):
    """30 shoppers walk the 12 products in order, four purchases each."""
    for shopper in range(30):
        add_events(f"w{shopper}", [products[(shopper + n) % 12].pk for n in range(4)], event_type="purchase")


def train(options, capture) -> TrainingRun:
    with capture(execute=True):
        run = start_run("sasrec", options, via="test")
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.traceback
    return run


def algorithm_config(run: TrainingRun) -> dict:
    return registry.read_artifacts(ModelVersion.objects.get(training_run=run))[1]["algorithm"]


@pytest.mark.slow
def test_a_retrain_starts_from_the_live_version_and_says_so(products, walks, django_capture_on_commit_callbacks):
    first = train(OPTIONS, django_capture_on_commit_callbacks)
    assert first.status_detail == "ran all 3 epochs"  # nothing live yet: a cold start
    assert ModelVersion.objects.get(training_run=first).status == ModelVersion.Status.LIVE
    assert [point["epoch"] for point in algorithm_config(first)["history"]] == [1, 2, 3]

    # A new product and its first shopper: the item set grows, the other 12 products carry over.
    from tests.factories import ProductFactory

    newcomer = ProductFactory(category=products[0].category, title="Item 12")
    add_events("w-new", [products[0].pk, newcomer.pk, products[1].pk], event_type="purchase")
    second = train(OPTIONS, django_capture_on_commit_callbacks)
    assert second.status_detail.endswith("; warm start: 12 of 13 items from live v1")
    assert "sasrec: warm start: 12 of 13 items from live v1" in second.log_tail
    # Epoch 0 is the loaded model, measured on validation before the first step.
    assert [point["epoch"] for point in algorithm_config(second)["history"]] == [0, 1, 2, 3]


@pytest.mark.slow
def test_warm_start_off_trains_cold(products, walks, django_capture_on_commit_callbacks):
    train(OPTIONS, django_capture_on_commit_callbacks)
    second = train({**OPTIONS, "warm_start": False}, django_capture_on_commit_callbacks)
    assert second.status_detail == "ran all 3 epochs"
    assert [point["epoch"] for point in algorithm_config(second)["history"]] == [1, 2, 3]


@pytest.mark.slow
def test_a_live_version_refitted_on_the_held_out_purchases_is_not_a_warm_start(
    products, walks, django_capture_on_commit_callbacks
):
    train({**OPTIONS, "refit_all": True}, django_capture_on_commit_callbacks)
    second = train(OPTIONS, django_capture_on_commit_callbacks)
    assert second.status_detail == "ran all 3 epochs"
    assert "sasrec: cold start, the live version was refitted on the held-out purchases" in second.log_tail
