"""The text_classifier kind: option checks, training on a label set's gold labels, the stored report."""
from __future__ import annotations

import pytest

from ai import registry
from ai.kinds import get_kind
from ai.models import Item, ModelVersion, TrainingRun
from ai.training import execute_run, start_run

from .conftest import labelled_set, make_label_set

pytestmark = pytest.mark.django_db

FAST = {"train_layers": "0", "epochs": 30, "max_length": 16, "lr": 0.01}


@pytest.mark.parametrize(
    "options, message",
    [
        ({}, "Name the label set to train on"),
        ({"label_set": "nope"}, "No label set 'nope'"),
        ({"label_set": "intents", "train_layers": "9"}, "'train_layers' must be 0 to 6 or 'all'"),
        ({"label_set": "intents", "cv_folds": 1}, "'cv_folds' must be 0"),
        ({"label_set": "empty"}, "gold labels use 0 label"),
        ({"label_set": "thin"}, r"at least 5 gold examples; too few for order \(4\), refund \(4\)"),
    ],
)
def test_bad_train_requests_are_refused_before_anything_is_stored(options, message):
    labelled_set()
    make_label_set("Empty", ["a", "b"])
    labelled_set("Thin", per_topic=4)
    with pytest.raises(ValueError, match=message):
        start_run("text_classifier", options)
    assert not TrainingRun.objects.exists()


def test_options_are_normalised_and_name_the_registry_entry():
    labelled_set()
    labelled_set("Other set")
    kind = get_kind("text_classifier")
    cleaned = kind.clean_options({"label_sets": "intents, other-set", "train_layers": "ALL"})
    assert cleaned["label_sets"] == "intents,other-set" and cleaned["train_layers"] == "all"
    assert kind.registry_name(cleaned) == "text_classifier:intents+other-set"
    assert get_kind("text_classifier:intents").name == "text_classifier"


@pytest.mark.slow
def test_trains_on_gold_labels_and_stores_the_evaluation_report(artifact_root):
    label_set = labelled_set(per_topic=10)
    Item.objects.filter(pk__in=list(Item.objects.filter(label_set=label_set).values_list("pk", flat=True)[:8])).update(split="test")
    run = start_run("text_classifier", {"label_set": "intents", **FAST, "cv_folds": 2}, enqueue=False)
    run = execute_run(run.pk)
    assert run.status == "succeeded", run.error
    version = ModelVersion.objects.get(training_run=run)
    assert version.kind == "text_classifier:intents" and version.status == "live"
    report = version.report["label_sets"]["intents"]
    assert report["n"] == 8 and report["n_train"] == 32
    assert set(report["per_label"]) == {"order", "refund", "account", "other"}
    assert sum(map(sum, report["confusion_matrix"])) == 8
    assert report["cv"]["folds"] == 2 and len(report["cv"]["per_fold"]) == 2
    assert version.metrics["macro_f1"] == report["macro_f1"] and version.primary_metric == "macro_f1"
    assert [point["step"] for point in run.loss_curve][:3] == [1, 2, 3]
    model = registry.live_model(label_set.model_key)
    assert model.predict(["where is my order please"], "intents") == ["order"]
    assert model.label_sets["intents"]["label_ids"] == list(label_set.labels.values_list("pk", flat=True))
