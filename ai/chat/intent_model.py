"""The intent model the `chat_intent` kind trains and serves, and `ai_eval intents` measures.

The classifier is `ai.textclf.TextClassifier` (all-MiniLM-L6-v2 with a classification head; by default the
top four encoder layers fine-tune). On top of it, a confidence threshold chosen on the validation split:
below it (or when the likeliest intent is `oos`) the message counts as not understood. With out-of-scope
examples in the validation split the threshold is the lowest whose out-of-scope recall reaches the
`oos_recall` option (0.9) with 95 % confidence (or, with `oos_recall` 0, the one that maximises in-scope
accuracy + out-of-scope recall); without any, it maximises (answered correctly - answered wrongly).
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

# (max_length) -> the message's frozen sentence embedding, or None when it cannot be finished from the shared part.
SentenceVector = Callable[[int], "torch.Tensor | None"]

OOS = "oos"
TASK = "intent"
# The top 4 of MiniLM's 6 layers fine-tune (the lower 2 are computed once and cached), 4 epochs with a
# 6 % warm-up; the threshold catches at least 90 % of val's out-of-scope examples, with 95 % confidence
# (see choose_threshold). Measured in docs/benchmarks.md (CLINC150, Bitext).
DEFAULT_OPTIONS: dict[str, Any] = {
    "train_layers": "4", "max_length": 32, "epochs": 0, "batch_size": 32, "lr": 0.0, "warmup": 0.06,
    "oos_recall": 0.9, "seed": 0,
}


@dataclass
class ServedIntentModel:
    """What `chat_intent` versions load as: the classifier, its labels and the chosen threshold."""

    classifier: Any
    labels: list[str]
    threshold: float
    task: str = TASK
    info: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.classifier.predict_proba(texts, self.task)

    def analyse(self, text: str) -> tuple[np.ndarray, SentenceVector]:
        """One message: its intent probabilities, and a function that gives the frozen encoder's sentence
        embedding of the same message (for retrieval) from the encoder layers already run for the intent,
        instead of encoding the message a second time. The function gives None when the message is longer
        than `max_length` tokens (the classifier read only part of it) or than the caller's limit."""
        encoding = self.classifier.encode_message(text)
        proba = self.classifier.predict_proba_features(encoding.features(), self.task)[0]

        def sentence_vector(max_length: int) -> torch.Tensor | None:
            if encoding.truncated or encoding.input_ids.shape[1] > max_length:
                return None
            return self.classifier.sentence_embedding(encoding)

        return proba, sentence_vector


# A reference number: a word with at least 5 digits in a row (Bitext's "00004587345", "AI-261201-7K3F9Q"),
# with a "number"/"no."/"#" just before it (not an amount: "$20000" stays).
REFERENCE_RE = re.compile(r"(?:\b(?:number|nr|no)\.?\s*|#\s*)?(?<![$£€\w-])(?=[\w-]*\d{5})[\w-]+", re.I)


def without_reference_numbers(text: str) -> str:
    """The text with its order/invoice/account numbers taken out ("" when nothing else is left)."""
    stripped = REFERENCE_RE.sub(" ", text)
    stripped = re.sub(r"\s+([?.!,])", r"\1", stripped)
    return " ".join(stripped.split())


def with_number_free_copies(texts: Sequence[str], targets: Sequence[int]) -> tuple[list[str], list[int]]:
    """Training texts plus, for each that names a reference number, a copy without it (same label).

    Bitext's track/cancel/change-order texts nearly all carry an order number ("check order 00004587345
    status") while the place-order texts never do, so a model trained on them alone reads "where is my
    order?" as placing one. Shoppers often ask without the number (the dialogue asks for it, or knows the
    signed-in shopper's orders): the intent must not hinge on it."""
    out_texts, out_targets = list(texts), list(targets)
    for text, target in zip(texts, targets, strict=True):
        copy = without_reference_numbers(text)
        if copy and copy != text and len(copy.split()) >= 2:
            out_texts.append(copy)
            out_targets.append(target)
    return out_texts, out_targets


def oos_class_weights(targets: Sequence[int], labels: Sequence[str]) -> list[float] | None:
    """Loss weights that make all the `oos` examples together count as much as an average intent (None
    when they already nearly do, or there are none). The seeded out-of-scope examples are a grab-bag borrowed from
    another data set (CLINC150's), worded unlike the shop's own texts, and several times more numerous
    than an intent's: unweighted, the model learnt to call ordinary questions out of scope."""
    if OOS not in labels:
        return None
    oos = list(labels).index(OOS)
    counts = np.bincount(np.asarray(targets, dtype=int), minlength=len(labels))
    in_scope = np.delete(counts, oos)
    in_scope = in_scope[in_scope > 0]
    if counts[oos] == 0 or not len(in_scope):
        return None
    weight = float(in_scope.mean()) / float(counts[oos])
    if 0.8 <= weight <= 1.25:  # about as many as an intent's (CLINC150's 100 a label): unweighted
        return None
    weights = [1.0] * len(labels)
    weights[oos] = weight
    return weights


def thresholded(proba: np.ndarray, labels: Sequence[str], threshold: float) -> np.ndarray:
    """Predicted class per row: the likeliest, or `oos` (-1 when the labels have none) below the threshold."""
    predicted = proba.argmax(axis=1)
    unsure = proba.max(axis=1) < threshold
    oos = list(labels).index(OOS) if OOS in labels else -1
    return np.where(unsure, oos, predicted)


def threshold_metrics(proba: np.ndarray, truth: Sequence[int] | np.ndarray, labels: Sequence[str], threshold: float) -> dict[str, Any]:
    """Accuracy and macro-F1 with unsure answers counted as `oos`; in-scope accuracy and out-of-scope
    recall when the truth has `oos` items (else None); the share of messages answered."""
    from sklearn.metrics import f1_score

    truth = np.asarray(truth)
    predicted = thresholded(proba, labels, threshold)
    oos = list(labels).index(OOS) if OOS in labels else -1
    in_scope = truth != oos
    has_oos = bool((~in_scope).any())
    classes = sorted(set(truth.tolist()) | set(predicted.tolist()))
    return {
        "accuracy": float((predicted == truth).mean()) if len(truth) else None,
        "macro_f1": float(f1_score(truth, predicted, labels=classes, average="macro", zero_division=0)) if len(truth) else None,
        "in_scope_accuracy": float((predicted[in_scope] == truth[in_scope]).mean()) if has_oos and in_scope.any() else None,
        "oos_recall": float((predicted[~in_scope] == oos).mean()) if has_oos else None,
        "answered": float((predicted != oos).mean()) if len(truth) else None,
        "threshold": float(threshold),
    }


def wilson_lower_bound(successes: int, n: int, z: float = 1.645) -> float:
    """The one-sided 95 % (z = 1.645) Wilson score lower bound of a proportion seen as successes / n."""
    if n <= 0:
        return 0.0
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - margin) / (1 + z * z / n)


def choose_threshold(
    proba: np.ndarray, truth: Sequence[int] | np.ndarray, labels: Sequence[str], *, oos_recall: float | None = None
) -> float:
    """The threshold (0..0.99) that does best on a validation split (see the module docstring).

    With out-of-scope examples and `oos_recall`: the threshold that answers the most in-scope examples
    right among those whose out-of-scope recall is at least `oos_recall` with 95 % confidence (the one-sided
    Wilson lower bound of the recall on the val split's few out-of-scope examples: the lowest threshold that
    merely reaches the target on val falls short on new data, having been picked for val's luck); if none
    is, among those that reach the target on val; if none does, the one that catches the most."""
    truth = np.asarray(truth)
    if not len(truth):
        return 0.5
    oos = list(labels).index(OOS) if OOS in labels else -1
    has_oos = bool((truth == oos).any())
    candidates = np.round(np.arange(0.0, 1.0, 0.01), 2)
    scores: list[float] = []
    in_scope = truth != oos
    if has_oos and oos_recall:
        rows = [thresholded(proba, labels, t) for t in candidates]
        recall = np.array([(predicted[~in_scope] == oos).mean() for predicted in rows])
        right = np.array([(predicted[in_scope] == truth[in_scope]).mean() if in_scope.any() else 0.0 for predicted in rows])
        n_oos = int((~in_scope).sum())
        bound = np.array([wilson_lower_bound(round(r * n_oos), n_oos) for r in recall])
        feasible = bound >= oos_recall - 1e-12
        if not feasible.any():
            feasible = recall >= oos_recall - 1e-12
        if not feasible.any():
            feasible = recall >= recall.max() - 1e-12
        # Among those, the most in-scope answers right; of ties, the lowest threshold (the most answered).
        best_right = right[feasible].max()
        return float(candidates[np.flatnonzero(feasible & (right >= best_right - 1e-12))[0]])
    for threshold in candidates:
        predicted = thresholded(proba, labels, threshold)
        if has_oos:
            kept = (predicted[in_scope] == truth[in_scope]).mean() if in_scope.any() else 0.0
            scores.append(kept + (predicted[~in_scope] == oos).mean())
        else:
            answered = predicted != oos
            scores.append((((predicted == truth) & answered).sum() - ((predicted != truth) & answered).sum()) / len(truth))
    score_array = np.asarray(scores)
    # Of the thresholds that do best, the middle one: the least sensitive to a shift between val and real use.
    best = candidates[np.flatnonzero(score_array >= score_array.max() - 1e-12)]
    return float(best[len(best) // 2])


def classifier_config(options: dict[str, Any], device: str = "cpu"):
    from ai.textclf import ClassifierConfig

    layers = str(options.get("train_layers", "2"))
    return ClassifierConfig(
        train_layers="all" if layers == "all" else int(layers), max_length=int(options.get("max_length", 32)),
        epochs=int(options.get("epochs", 0)), batch_size=int(options.get("batch_size", 32)),
        lr=float(options.get("lr", 0.0)), warmup=float(options.get("warmup", 0.0)), seed=int(options.get("seed", 0)),
        device=device,
    )


def fit(
    texts: Sequence[str],
    targets: Sequence[int],
    labels: Sequence[str],
    *,
    val_texts: Sequence[str] = (),
    val_targets: Sequence[int] = (),
    options: dict[str, Any] | None = None,
    device: str = "cpu",
    progress: Callable[..., None] | None = None,
) -> ServedIntentModel:
    """Train the classifier on (texts, targets) and choose its threshold on the validation split."""
    from ai.textclf import TextClassifier

    options = {**DEFAULT_OPTIONS, **(options or {})}
    classifier = TextClassifier({TASK: list(labels)}, classifier_config(options, device))
    started = time.monotonic()
    texts, targets = with_number_free_copies(texts, targets)
    features = classifier.features(texts)
    weights = oos_class_weights(targets, labels)
    classifier.fit_features({TASK: features}, {TASK: targets}, progress=progress,
                            class_weights={TASK: weights} if weights else None)
    fit_s = time.monotonic() - started
    threshold = 0.5
    if len(val_texts):
        threshold = choose_threshold(classifier.predict_proba(list(val_texts), TASK), val_targets, labels,
                                     oos_recall=float(options.get("oos_recall") or 0) or None)
    return ServedIntentModel(classifier, list(labels), threshold, info={"fit_s": round(fit_s, 2)})


def latency_ms(model: ServedIntentModel, texts: Sequence[str], *, repeat: int = 200) -> tuple[float, float]:
    """p50 and p95 milliseconds of classifying one message at a time (tokenise, encode, classify)."""
    timings = []
    sample = list(texts)[:repeat] or ["where is my order"]
    model.predict_proba([sample[0]])  # warm-up
    for text in sample:
        started = time.perf_counter()
        model.predict_proba([text])
        timings.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(timings, 50)), float(np.percentile(timings, 95))
