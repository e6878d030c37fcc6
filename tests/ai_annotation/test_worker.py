"""text_classifier through a real Celery worker on PostgreSQL: trains on a label set, registers a version
with its evaluation report, and once promoted its suggestions reorder the labelling queue."""
from __future__ import annotations

import numpy as np
import pytest

from ai import registry
from ai.annotation.labelling import next_item, skip
from ai.annotation.scoring import live_version_id, schedule_scoring
from ai.models import Item, LabelSet, ModelVersion, TrainingRun
from ai.textclf import uncertainty
from ai.training import start_run
from tests.ai_training.test_worker_integration import broker, start_worker, wait_for  # noqa: F401  (fixtures)
from tests.factories import UserFactory

from .conftest import labelled_set

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_worker_trains_on_gold_labels_and_the_model_reorders_the_queue(artifact_root, start_worker, settings):  # noqa: F811
    settings.AI_REGISTRY_POLL_S = 0
    label_set = labelled_set(per_topic=8, unlabelled=6)
    start_worker(OMP_NUM_THREADS="1")
    run = start_run("text_classifier", {"label_set": label_set.slug, "train_layers": "0", "epochs": 30, "max_length": 16, "lr": 0.01})
    done = wait_for(lambda: (r := TrainingRun.objects.get(pk=run.pk)).is_finished and r, 240, 0.5, "the run to finish")
    assert done.status == TrainingRun.Status.SUCCEEDED, done.error + done.log_tail
    assert done.worker.startswith("test-gpu-") and done.loss_curve
    version = ModelVersion.objects.get(training_run=done)
    assert version.kind == label_set.model_key and version.status == ModelVersion.Status.CANDIDATE
    report = version.report["label_sets"][label_set.slug]
    assert report["n"] + report["n_train"] == 32 and set(report["per_label"]) == {"order", "refund", "account", "other"}
    assert version.metrics["macro_f1"] == report["macro_f1"]

    annotator = UserFactory(username="ann")
    assert next_item(label_set, annotator).text.endswith("(new 0)")  # no live model: oldest first
    registry.promote(version)
    # The labelling page notices the new live version and queues the scoring task on the worker.
    assert schedule_scoring(LabelSet.objects.get(pk=label_set.pk), live_version_id(label_set))
    wait_for(lambda: not Item.objects.filter(label_set=label_set, complete=False).exclude(scored_version=version.pk).exists(),
             120, 0.5, "the worker to score the items")
    pending = list(Item.objects.filter(label_set=label_set, complete=False).order_by("pk"))
    model = registry.live_model(label_set.model_key)
    proba = model.predict_proba([item.text for item in pending], label_set.slug)
    expected = uncertainty(proba, label_set.uncertainty)
    assert [item.uncertainty for item in pending] == pytest.approx(np.round(expected, 6).tolist(), abs=1e-4)
    label_ids = model.label_sets[label_set.slug]["label_ids"]
    assert [item.suggestion_id for item in pending] == [label_ids[i] for i in proba.argmax(axis=1)]
    seen = []
    for _ in pending:
        item = next_item(label_set, annotator)
        seen.append(item.uncertainty)
        skip(item.pk, annotator)
    assert seen == sorted(seen, reverse=True)
