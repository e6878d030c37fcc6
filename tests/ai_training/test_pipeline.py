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
    # 40 held-out users in batches of 16: the running held-out NLL after each batch
    assert [point["step"] for point in run.loss_curve] == [1, 2, 3]
    # The running NLL after each batch depends on which users share a batch, which follows the database's
    # row order (SQLite and PostgreSQL differ); the last point is over all 40 users on every database.
    assert run.loss_curve[-1]["loss"] == pytest.approx(2.144206, abs=1e-5)
    assert all(1.5 < point["loss"] < 2.5 for point in run.loss_curve)
    # The seeded events rank the same every time: 28 of the 40 held-out purchases are in the top 10.
    assert run.metrics == pytest.approx(
        {"hr@10": 28 / 40, "ndcg@10": 0.333435, "coverage@10": 1.0, "heldout_nll": 2.144206, "users_evaluated": 40},
        abs=1e-5,
    )
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
    # The generated events favour low product indexes (Zipf), decayed by their age.
    assert model.top_keys(5) == [catalogue[i].pk for i in (0, 1, 3, 4, 7)]
    assert model.top_keys(3, category=catalogue[1].category_id) == [catalogue[i].pk for i in (1, 3, 7)]
    assert model.top_keys(3, category=catalogue[0].category_id) == [catalogue[i].pk for i in (0, 4, 2)]


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
