"""The evaluation report every classifier version stores, computed with scikit-learn.

    report = evaluation_report(y_true, proba, labels)   # plain JSON-able dict

Single-label: accuracy, macro and per-label precision/recall/F1 with support, the confusion matrix
(rows: true label, columns: predicted), one-vs-rest ROC curves with AUC per label and their macro mean.
Multi-label (targets as 0/1 rows): subset accuracy, the same per-label figures with p >= 0.5, and
each label's ROC. `split_indices` makes the held-out split; `cross_validate` the k-fold figures.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn import metrics
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

MAX_ROC_POINTS = 60


def _thin(values: np.ndarray, keep: np.ndarray) -> list[float]:
    return [round(float(v), 4) for v in values[keep]]


def roc_curve_points(y_binary: np.ndarray, scores: np.ndarray) -> dict[str, Any] | None:
    """FPR/TPR points (at most MAX_ROC_POINTS) and the AUC; None when only one class is present."""
    if y_binary.min() == y_binary.max():
        return None
    fpr, tpr, _ = metrics.roc_curve(y_binary, scores)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), MAX_ROC_POINTS)).round().astype(int))
    return {"fpr": _thin(fpr, keep), "tpr": _thin(tpr, keep), "auc": float(metrics.roc_auc_score(y_binary, scores))}


def evaluation_report(y_true: Sequence[Any], proba: np.ndarray, labels: Sequence[str], *, multi_label: bool = False) -> dict[str, Any]:
    """The report for held-out targets (label indices, or 0/1 rows when multi_label) and predicted probabilities."""
    proba = np.asarray(proba, dtype=np.float64)
    k = len(labels)
    if multi_label:
        truth = np.asarray(y_true, dtype=int).reshape(len(proba), k)
        predicted = (proba >= 0.5).astype(int)
        accuracy = float(metrics.accuracy_score(truth, predicted))
        label_truth = [truth[:, j] for j in range(k)]
    else:
        truth = np.asarray(y_true, dtype=int)
        predicted = proba.argmax(axis=1)
        accuracy = float(metrics.accuracy_score(truth, predicted))
        label_truth = [(truth == j).astype(int) for j in range(k)]
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        truth, predicted, labels=None if multi_label else list(range(k)), zero_division=0
    )
    per_label = {
        name: {"precision": float(precision[j]), "recall": float(recall[j]), "f1": float(f1[j]), "support": int(support[j])}
        for j, name in enumerate(labels)
    }
    roc = {}
    for j, name in enumerate(labels):
        curve = roc_curve_points(label_truth[j], proba[:, j])
        if curve is not None:
            roc[name] = curve
    report: dict[str, Any] = {
        "n": int(len(proba)),
        "labels": list(labels),
        "multi_label": multi_label,
        "accuracy": accuracy,
        "macro_precision": float(np.mean(precision)),
        "macro_recall": float(np.mean(recall)),
        "macro_f1": float(np.mean(f1)),
        "per_label": per_label,
        "roc": roc,
        "macro_auc": float(np.mean([curve["auc"] for curve in roc.values()])) if roc else None,
    }
    if not multi_label:
        report["confusion_matrix"] = metrics.confusion_matrix(truth, predicted, labels=list(range(k))).tolist()
    return report


def _stratify_key(targets: Sequence[Any], multi_label: bool) -> np.ndarray | None:
    if multi_label:
        return None
    key = np.asarray(targets)
    _, counts = np.unique(key, return_counts=True)
    return key if counts.min() >= 2 else None


def split_indices(
    targets: Sequence[Any], *, test_size: float = 0.2, seed: int = 0, multi_label: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """A stratified train/test split of positions (plain random when a label has a single example)."""
    positions = np.arange(len(targets))
    train, test = train_test_split(
        positions, test_size=test_size, random_state=seed, stratify=_stratify_key(targets, multi_label)
    )
    return np.sort(train), np.sort(test)


def cross_validate(
    targets: Sequence[Any],
    fit_and_predict: Callable[[np.ndarray, np.ndarray], np.ndarray],
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
    multi_label: bool = False,
) -> dict[str, Any]:
    """K-fold cross-validation: `fit_and_predict(train_positions, test_positions)` returns test probabilities.

    Stratified by label for single-label tasks. Returns per-fold accuracy and macro-F1 with mean and sd.
    """
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    stratify = _stratify_key(targets, multi_label)
    if stratify is not None and np.unique(stratify, return_counts=True)[1].min() < folds:
        raise ValueError(f"every label needs at least {folds} examples for {folds}-fold cross-validation")
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed) if stratify is not None else KFold(folds, shuffle=True, random_state=seed)
    positions = np.arange(len(targets))
    rows = []
    for train, test in splitter.split(positions, stratify if stratify is not None else None):
        proba = fit_and_predict(train, test)
        fold = evaluation_report([targets[i] for i in test], proba, labels, multi_label=multi_label)
        rows.append({"accuracy": fold["accuracy"], "macro_f1": fold["macro_f1"]})
    result: dict[str, Any] = {"folds": folds, "per_fold": rows}
    for key in ("accuracy", "macro_f1"):
        values = np.array([row[key] for row in rows])
        result[f"{key}_mean"] = float(values.mean())
        result[f"{key}_sd"] = float(values.std(ddof=1))
    return result
