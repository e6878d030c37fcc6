"""`manage.py ai_eval intents --data FILE [--json] [--threshold auto|FLOAT] [--cv K] [--option NAME=VALUE]`

Trains the class the `chat_intent` kind serves (ai.chat.intent_model: MiniLM + head, a threshold on its
in-scope score, by default the energy of the in-scope logits, chosen on the `val` split, or on a stratified 15 % of `train` when the file has none) on `train`, and the baseline, frozen
all-MiniLM-L6-v2 sentence embeddings + scikit-learn logistic regression (threshold on its top probability,
chosen by the same rule), and
reports both on `test`: accuracy and macro-F1 (unsure answers count as `oos`), in-scope accuracy and
out-of-scope recall when the file has `oos` labels, the threshold, fit seconds, and p50/p95 milliseconds
to classify one message end to end. `--cv K`: stratified K-fold cross-validation over train+val, mean ± sd.
"""
from __future__ import annotations

import csv
import gzip
import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import intent_model

KEYS = ("model", "accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "threshold", "fit_s", "p50_ms", "p95_ms")
BASELINE = "minilm_logreg"
SERVED = "chat_intent"


class IntentsFileError(ValueError):
    pass


@dataclass
class Split:
    texts: list[str] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)


@dataclass
class IntentsData:
    labels: list[str]
    train: Split
    val: Split
    test: Split
    skipped: int = 0


def read_intents(path: str) -> IntentsData:
    """An intents CSV (text,label,split; .csv.gz too). Labels are those of `train`; test or val rows with
    another label are skipped and counted."""
    file = Path(path)
    if not file.is_file():
        raise IntentsFileError(f"{path}: no such file")
    raw = file.read_bytes()
    if file.suffix == ".gz":
        raw = gzip.decompress(raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise IntentsFileError(f"{path}: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = {"text", "label", "split"} - set(reader.fieldnames or [])
    if missing:
        raise IntentsFileError(f"{path}: needs the columns text,label,split; missing {', '.join(sorted(missing))}")
    rows = [(r["text"] or "", (r["label"] or "").strip(), (r["split"] or "").strip()) for r in reader]
    bad = sorted({split for _, _, split in rows} - {"train", "val", "test"})
    if bad:
        raise IntentsFileError(f"{path}: unknown split {bad[0]!r} (train, val or test)")
    labels = sorted({label for _, label, split in rows if split == "train"})
    if len(labels) < 2:
        raise IntentsFileError(f"{path}: the train split needs at least 2 labels")
    index = {label: i for i, label in enumerate(labels)}
    data = IntentsData(labels, Split(), Split(), Split())
    for text, label, split in rows:
        if label not in index:
            data.skipped += 1
            continue
        part = getattr(data, split)
        part.texts.append(text)
        part.targets.append(index[label])
    if not data.test.texts:
        raise IntentsFileError(f"{path}: no test rows")
    return data


def carve_validation(data: IntentsData, seed: int = 0) -> tuple[Split, Split]:
    """(train, val): the file's own, or a stratified 15 % of train when it has no val rows."""
    if data.val.texts:
        return data.train, data.val
    from ai.textclf.evaluation import split_indices

    train, val = split_indices(data.train.targets, test_size=0.15, seed=seed)
    pick = lambda idx: Split([data.train.texts[i] for i in idx], [data.train.targets[i] for i in idx])  # noqa: E731
    return pick(train), pick(val)


def latency(predict: Callable[[list[str]], np.ndarray], texts: list[str], repeat: int = 200) -> tuple[float, float]:
    """p50 and p95 milliseconds of one message at a time, with the torch threads the chat answers with."""
    from ai.chat.understanding import CHAT_TORCH_THREADS
    from ai.device import torch_threads

    sample = texts[:repeat]
    timings = []
    with torch_threads(CHAT_TORCH_THREADS):
        predict(sample[:1])
        for text in sample:
            started = time.perf_counter()
            predict([text])
            timings.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(timings, 50)), float(np.percentile(timings, 95))


def row(name: str, proba: np.ndarray, data: IntentsData, threshold: float, fit_s: float, p50: float, p95: float,
        scores: np.ndarray | None = None) -> dict:
    metrics = intent_model.threshold_metrics(proba, data.test.targets, data.labels, threshold, scores)
    result: dict[str, Any] = {"model": name}
    for key in KEYS[1:]:
        result[key] = metrics.get(key)
    result.update(threshold=round(threshold, 2), fit_s=round(fit_s, 1), p50_ms=round(p50, 2), p95_ms=round(p95, 2))
    for key in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall"):
        if result[key] is not None:
            result[key] = round(result[key], 4)
    return result


def _threshold(fixed: float | None, val_proba: np.ndarray, val: Split, labels: list[str], options: dict,
               scores: np.ndarray | None = None) -> float:
    if fixed is not None:
        return fixed
    return intent_model.choose_threshold(val_proba, val.targets, labels, scores=scores,
                                         **intent_model.threshold_targets({**intent_model.DEFAULT_OPTIONS, **options}))


def evaluate_served(data: IntentsData, *, fixed: float | None, options: dict, device: str, log) -> dict:
    options = {**intent_model.DEFAULT_OPTIONS, **options}
    train, val = carve_validation(data, int(options["seed"]))
    started = time.monotonic()
    last = {"epoch": 0}

    def progress(fraction: float, **point):
        if "epoch_loss" in point and point["epoch"] != last["epoch"]:
            last["epoch"] = point["epoch"]
            log(f"[{SERVED}] epoch {point['epoch']} loss {point['epoch_loss']:.4f} ({time.monotonic() - started:.0f} s)")

    served = intent_model.fit(train.texts, train.targets, data.labels, val_texts=val.texts, val_targets=val.targets,
                              options=options, device=device, progress=progress)
    if fixed is not None:
        served.threshold = fixed
    fit_s = time.monotonic() - started
    proba, scores = served.proba_and_scores(data.test.texts)
    p50, p95 = latency(lambda texts: served.analyse(texts[0])[0][None], data.test.texts)  # as the chat serves it
    return row(SERVED, proba, data, served.threshold, fit_s, p50, p95, scores)


class MiniLMLogisticRegression:
    """The baseline: frozen all-MiniLM-L6-v2 sentence embeddings, then logistic regression."""

    def __init__(self, c: float = 10.0) -> None:
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression(C=c, max_iter=2000)

    @staticmethod
    def embed(texts: list[str]) -> np.ndarray:
        from ai.recs.algorithms.content import embed_texts

        return embed_texts(texts, device="cpu", batch_size=128, max_length=32).numpy()

    def fit(self, texts: list[str], targets: list[int]) -> MiniLMLogisticRegression:
        self.model.fit(self.embed(texts), targets)
        return self

    def predict_proba(self, texts: list[str], n_labels: int) -> np.ndarray:
        """Probabilities over every label (columns of labels absent from the training data are 0)."""
        proba = np.zeros((len(texts), n_labels))
        proba[:, self.model.classes_] = self.model.predict_proba(self.embed(texts))
        return proba


def evaluate_baseline(data: IntentsData, *, fixed: float | None, seed: int, options: dict | None = None) -> dict:
    """The baseline, thresholded on its top probability with the same targets as the served model."""
    train, val = carve_validation(data, seed)
    started = time.monotonic()
    baseline = MiniLMLogisticRegression().fit(train.texts, train.targets)
    k = len(data.labels)
    threshold = _threshold(fixed, baseline.predict_proba(val.texts, k), val, data.labels, options or {})
    fit_s = time.monotonic() - started
    proba = baseline.predict_proba(data.test.texts, k)
    p50, p95 = latency(lambda texts: baseline.predict_proba(texts, k), data.test.texts)
    return row(BASELINE, proba, data, threshold, fit_s, p50, p95)


def cross_validation(data: IntentsData, folds: int, *, options: dict, device: str) -> dict[str, dict]:
    """Stratified K-fold over train+val for both models: accuracy and macro-F1, mean ± sd."""
    from ai.textclf import TextClassifier
    from ai.textclf.evaluation import cross_validate

    options = {**intent_model.DEFAULT_OPTIONS, **options}
    texts = data.train.texts + data.val.texts
    targets = data.train.targets + data.val.targets
    k = len(data.labels)
    classifier = TextClassifier({intent_model.TASK: data.labels}, intent_model.classifier_config(options, device))
    features = classifier.features(texts)
    embeddings = MiniLMLogisticRegression.embed(texts)

    def served(train, test):
        fold = TextClassifier({intent_model.TASK: data.labels}, classifier.config)
        fold.fit_features({intent_model.TASK: features.subset(train)}, {intent_model.TASK: [targets[i] for i in train]})
        return fold.predict_proba_features(features.subset(test), intent_model.TASK)

    def baseline(train, test):
        model = MiniLMLogisticRegression()
        model.model.fit(embeddings[train], [targets[i] for i in train])
        proba = np.zeros((len(test), k))
        proba[:, model.model.classes_] = model.model.predict_proba(embeddings[test])
        return proba

    seed = int(options["seed"])
    return {
        SERVED: cross_validate(targets, served, data.labels, folds=folds, seed=seed),
        BASELINE: cross_validate(targets, baseline, data.labels, folds=folds, seed=seed),
    }


def format_table(rows: list[dict]) -> str:
    def cell(value):
        if value is None:
            return "-"
        return f"{value:.4f}" if isinstance(value, float) and value <= 1 else str(value)

    lines = ["  ".join(f"{key:>17}" for key in KEYS)]
    lines += ["  ".join(f"{cell(r.get(key)):>17}" for key in KEYS) for r in rows]
    for r in rows:
        if "cv_accuracy_mean" in r:
            lines.append(f"{r['model']}: {r['cv_folds']}-fold accuracy {r['cv_accuracy_mean']:.4f} ± {r['cv_accuracy_sd']:.4f}, "
                         f"macro-F1 {r['cv_macro_f1_mean']:.4f} ± {r['cv_macro_f1_sd']:.4f}")
    return "\n".join(lines)


# The command line (`ai_eval intents`) -----------------------------------------------------------
def add_intents_arguments(parser) -> None:
    parser.add_argument("--data", help="intents: CSV (or .csv.gz) with text,label,split")
    parser.add_argument("--json", action="store_true", help="one JSON object per model per line")
    parser.add_argument("--device", default=None, help="torch device for the served model (default cpu)")
    parser.add_argument("--threshold", default="auto",
                        help="intents: 'auto' (chosen on val) or a number: on the in-scope score (in [0, 1) with oos_score=max_prob)")
    parser.add_argument("--cv", type=int, default=0, help="intents: stratified K-fold cross-validation over train+val")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="intents: a chat_intent training option, e.g. train_layers=2 (repeatable)")


def _parse_threshold(value: str, *, probability: bool = True) -> float | None:
    """None for 'auto', else the number: on the served model's in-scope score, so in [0, 1) when that is a
    probability (oos_score=max_prob); any finite number for the energy score."""
    if value == "auto":
        return None
    try:
        threshold = float(value)
    except ValueError:
        raise ValueError(f"--threshold must be 'auto' or a number, not {value!r}") from None
    if not math.isfinite(threshold):
        raise ValueError("--threshold must be a finite number")
    if probability and not 0 <= threshold < 1:
        raise ValueError("--threshold must be at least 0 and below 1")
    return threshold


def _parse_options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in intent_model.DEFAULT_OPTIONS:
            known = ", ".join(intent_model.DEFAULT_OPTIONS)
            raise ValueError(f"--option {pair!r}: use NAME=VALUE with NAME one of {known}")
        options[name] = value
    return options


def run_intents(command, options: dict) -> None:
    """Run both models on the file and print one table or one JSON object per model per line."""
    import json

    from django.core.management.base import CommandError

    if not options.get("data"):
        raise CommandError("ai_eval intents needs --data FILE")
    try:
        training = _parse_options(options["option"])
        score = str(training.get("oos_score", intent_model.DEFAULT_OPTIONS["oos_score"]))
        if score not in intent_model.OOS_SCORES:
            raise ValueError(f"--option oos_score must be one of {', '.join(intent_model.OOS_SCORES)}")
        fixed = _parse_threshold(options["threshold"], probability=score == "max_prob")
        baseline_fixed = score == "max_prob"  # the baseline's score is its top probability: else chosen on val
        if options["cv"] and options["cv"] < 2:
            raise ValueError("--cv must be at least 2")
        data = read_intents(options["data"])
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    device = options.get("device") or "cpu"
    log = command.stderr.write if options["verbosity"] >= 1 else (lambda message: None)
    log(f"{len(data.labels)} labels; {len(data.train.texts)} train, {len(data.val.texts)} val, "
        f"{len(data.test.texts)} test texts" + (f" ({data.skipped} rows with labels not in train skipped)" if data.skipped else ""))
    rows = [
        evaluate_served(data, fixed=fixed, options=training, device=device, log=log),
        evaluate_baseline(data, fixed=fixed if baseline_fixed else None, seed=int(training.get("seed", 0)), options=training),
    ]
    if options["cv"]:
        try:
            folds = cross_validation(data, options["cv"], options=training, device=device)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        for r in rows:
            result = folds[r["model"]]
            r.update({f"cv_{key}": round(result[key], 4) for key in ("accuracy_mean", "accuracy_sd", "macro_f1_mean", "macro_f1_sd")})
            r["cv_folds"] = options["cv"]
    if options["json"]:
        for r in rows:
            command.stdout.write(json.dumps(r))
    else:
        command.stdout.write(format_table(rows))
