"""The Django-free classifier: uncertainty, the evaluation report (checked by hand), training and saving."""
from __future__ import annotations

import math

import numpy as np
import pytest

from ai.textclf import ClassifierConfig, TaskData, TaskSpec, TextClassifier, uncertainty
from ai.textclf.evaluation import cross_validate, evaluation_report, split_indices

from .data import TOPICS, topic_texts


def test_uncertainty_strategies_by_hand():
    proba = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [1.0, 0.0, 0.0]])
    assert uncertainty(proba, "least_confident") == pytest.approx([0.3, 0.6, 0.0])
    assert uncertainty(proba, "margin") == pytest.approx([0.5, 1.0, 0.0])
    entropy_first = -(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1)) / math.log(3)
    assert uncertainty(proba, "entropy") == pytest.approx([entropy_first, -(2 * 0.4 * math.log(0.4) + 0.2 * math.log(0.2)) / math.log(3), 0.0])
    assert uncertainty(np.array([[0.5, 0.9]]), multi_label=True) == pytest.approx([0.6])
    with pytest.raises(ValueError, match="unknown uncertainty strategy 'guess'"):
        uncertainty(proba, "guess")


def test_evaluation_report_by_hand():
    # truth: a a b b c ; predicted (argmax): a b b b a
    truth = [0, 0, 1, 1, 2]
    proba = np.array([[0.8, 0.1, 0.1], [0.3, 0.6, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.5, 0.2, 0.3]])
    report = evaluation_report(truth, proba, ["a", "b", "c"])
    assert report["accuracy"] == pytest.approx(3 / 5)
    assert report["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert report["per_label"]["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert report["per_label"]["b"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2})
    assert report["per_label"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert report["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    # AUC of "a" vs rest: positives score 0.8, 0.3; negatives 0.2, 0.1, 0.5 -> pairs won 3 + 2 = 5 of 6.
    assert report["roc"]["a"]["auc"] == pytest.approx(5 / 6)
    assert report["roc"]["c"]["auc"] == pytest.approx(1.0)
    assert report["roc"]["a"]["fpr"][0] == 0.0 and report["roc"]["a"]["tpr"][-1] == 1.0


def test_multi_label_report_and_cross_validation():
    report = evaluation_report([[1, 0], [1, 1], [0, 1]], np.array([[0.9, 0.2], [0.6, 0.4], [0.1, 0.8]]), ["x", "y"], multi_label=True)
    assert report["accuracy"] == pytest.approx(2 / 3)
    assert report["per_label"]["y"]["recall"] == pytest.approx(0.5) and "confusion_matrix" not in report
    targets = [0, 1] * 5

    def perfect(train, test):
        return np.array([[1.0, 0.0] if targets[i] == 0 else [0.0, 1.0] for i in test])

    cv = cross_validate(targets, perfect, ["a", "b"], folds=5)
    assert cv["accuracy_mean"] == 1.0 and cv["accuracy_sd"] == 0.0 and len(cv["per_fold"]) == 5
    with pytest.raises(ValueError, match="at least 6 examples"):
        cross_validate(targets, perfect, ["a", "b"], folds=6)
    train, test = split_indices([0] * 10 + [1] * 10, test_size=0.2)
    assert len(test) == 4 and sorted(np.bincount(np.array([0] * 10 + [1] * 10)[test])) == [2, 2]


@pytest.mark.slow
@pytest.mark.parametrize("layers", [0, 1])
def test_classifier_learns_and_round_trips(layers):
    texts, targets = topic_texts(per_topic=10)
    config = ClassifierConfig(train_layers=layers, max_length=16, epochs=40 if layers == 0 else 3, lr=0.01 if layers == 0 else 0.003)
    model = TextClassifier({"topic": TaskSpec(list(TOPICS))}, config).fit({"topic": TaskData(texts, targets)})
    predicted = model.predict(["where is my parcel, it has not arrived", "i want my money back"])
    assert predicted == ["order", "refund"]
    tensors, saved = model.to_state()
    loaded = TextClassifier.from_state(tensors, saved)
    assert np.abs(loaded.predict_proba(texts[:6]) - model.predict_proba(texts[:6])).max() < 1e-5
    assert all(name.startswith("heads.") for name in tensors) == (layers == 0)


@pytest.mark.slow
def test_multi_task_and_multi_label_heads_share_one_encoder():
    texts, targets = topic_texts(per_topic=6)
    tags = [[0] if t == 0 else [1] if t == 1 else [0, 1] for t in targets]
    model = TextClassifier(
        {"topic": TaskSpec(list(TOPICS)), "tags": TaskSpec(["a", "b"], multi_label=True)},
        ClassifierConfig(train_layers=0, max_length=16, epochs=30, lr=0.01),
    ).fit({"topic": TaskData(texts, targets), "tags": TaskData(texts, tags)})
    assert model.predict_proba(texts[:3], "tags").shape == (3, 2)
    assert model.predict_proba(texts[:3], "topic").sum(axis=1) == pytest.approx([1, 1, 1])
    with pytest.raises(ValueError, match="several tasks"):
        model.predict(texts[:1])


@pytest.mark.slow
def test_ai_eval_active_learning_json_rows(tmp_path):
    import io
    import json

    from django.core.management import CommandError, call_command

    texts, targets = topic_texts(per_topic=12)
    names = list(TOPICS)
    rows = ["text,label,split"] + [
        f"{text},{names[target]},{'test' if n % 4 == 0 else 'train'}" for n, (text, target) in enumerate(zip(texts, targets, strict=True))
    ] + ["what is this,oos,test"]
    data = tmp_path / "intents.csv"
    data.write_text("\n".join(rows) + "\n")
    out = io.StringIO()
    call_command(
        "ai_eval", "active-learning", "--data", str(data), "--seed-per-label", "2", "--batch", "4", "--rounds", "2",
        "--max-length", "16", "--epochs", "20", "--json", stdout=out, stderr=io.StringIO(),
    )
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["strategy"], r["round"], r["labels"]) for r in results] == [
        ("uncertainty", 0, 8), ("uncertainty", 1, 12), ("uncertainty", 2, 16),
        ("random", 0, 8), ("random", 1, 12), ("random", 2, 16), ("full", None, 36),
    ]
    assert all(set(r) == {"strategy", "round", "labels", "accuracy", "macro_f1", "fit_s"} for r in results)
    assert all(0 <= r["accuracy"] <= 1 for r in results) and results[-1]["accuracy"] >= 0.75
    with pytest.raises(CommandError, match=r"training examples \(< --seed-per-label 10\)"):
        call_command("ai_eval", "active-learning", "--data", str(data), "--seed-per-label", "10", "--batch", "1", "--rounds", "1")
    with pytest.raises(CommandError, match="no such file"):
        call_command("ai_eval", "active-learning", "--data", str(tmp_path / "nope.csv"), "--seed-per-label", "1", "--batch", "1", "--rounds", "1")


def test_diverse_batch_takes_one_text_per_cluster_nearest_its_centre():
    from ai.textclf.active_learning import diverse_batch

    rng = np.random.default_rng(0)
    centres = np.eye(8)[:3] * 10  # three far-apart groups of 20 texts
    embeddings = np.concatenate([centre + rng.normal(scale=0.1, size=(20, 8)) for centre in centres])
    weights = np.concatenate([np.full(20, 0.9), np.full(20, 0.5), np.full(20, 0.2)])  # group 0 the most uncertain
    chosen = diverse_batch(embeddings, weights, 3, seed=0)
    assert sorted(int(i) // 20 for i in chosen) == [0, 1, 2]  # one from each group, not three from group 0
    for i in chosen:
        group = embeddings[(int(i) // 20) * 20 : (int(i) // 20 + 1) * 20]
        unit = group / np.linalg.norm(group, axis=1, keepdims=True)
        centre = unit.mean(axis=0)
        assert int(i) % 20 == int(np.argmin(np.linalg.norm(unit - centre, axis=1)))
    assert sorted(diverse_batch(embeddings[:2], weights[:2], 3).tolist()) == [0, 1]  # fewer texts than the batch
