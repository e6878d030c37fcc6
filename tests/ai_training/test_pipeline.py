from __future__ import annotations

import hashlib

import pytest

from ai import registry
from ai.models import ModelVersion, TrainingRun
from ai.recs.algorithms.popularity import Popularity
from ai.training import start_run


def test_popularity_run_trains_registers_and_promotes(shop_events, catalogue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run("popularity", {"half_life_days": "14"}, via="test")
    run.refresh_from_db()

    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.traceback
    assert run.progress == 100
    assert run.options == {"half_life_days": 14.0, "days": 0}
    assert run.device.startswith("cpu")
    assert run.attempts == 1
    assert run.started_at and run.finished_at and run.heartbeat_at
    assert [point["step"] for point in run.loss_curve] == [1, 2, 3]  # 40 held-out users in batches of 16
    assert all(point["loss"] > 0 for point in run.loss_curve)
    assert 0 < run.metrics["ndcg@10"] <= run.metrics["hr@10"] <= 1
    assert run.metrics["users_evaluated"] == 40
    assert run.data_summary["interactions"] == len(shop_events)
    assert run.data_summary["users"] == 40

    version = ModelVersion.objects.get(training_run=run)
    assert (version.kind, version.version, version.status) == ("popularity", 1, ModelVersion.Status.LIVE)
    storage = registry.artifact_storage()
    for name in registry.ARTIFACTS:
        with storage.open(f"ai-models/popularity/v1/{name}", "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == version.checksums[name]

    model = registry.live_model("popularity")
    assert isinstance(model, Popularity)
    # The most frequent product of the generated events is the most popular one.
    assert model.top_keys(1) == [catalogue[0].pk]
    category = catalogue[1].category_id
    assert all(pid in {p.pk for p in catalogue if p.category_id == category} for pid in model.top_keys(3, category=category))


def test_run_without_events_fails_and_says_why(catalogue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run("popularity", {})
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert "No product events" in run.error
    assert "Traceback" in run.traceback
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize(
    "kind, options, message",
    [
        ("nope", {}, "Unknown model kind 'nope'"),
        ("popularity", {"epochs": 3}, "Unknown option 'epochs'"),
        ("popularity", {"half_life_days": "soon"}, "must be a float"),
        ("popularity", {"half_life_days": -1}, "half_life_days"),
        ("popularity", ["x"], "options must be an object"),
    ],
)
def test_start_run_rejects_bad_input_and_stores_nothing(db, kind, options, message):
    with pytest.raises(ValueError, match=message):
        start_run(kind, options)
    assert not TrainingRun.objects.exists()
