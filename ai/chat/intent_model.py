"""The intent model the `chat_intent` kind trains and serves, and `ai_eval intents` measures.

The classifier is `ai.textclf.TextClassifier` (all-MiniLM-L6-v2 with a classification head; by default the
whole encoder fine-tunes). On top of it, an in-scope score and a threshold chosen on the
validation split: below it (or when the likeliest intent is `oos`) the message counts as not understood.

The score (`oos_score` option): "energy", the log-sum-exp of the in-scope intents' logits (the default:
on CLINC150's val split it separates out-of-scope questions far better than the top softmax probability,
AUROC 0.983 against 0.933, see docs/benchmarks.md), or "max_prob", the top softmax probability.

With out-of-scope examples in the validation split and both targets set (`in_scope_accuracy` 0.95 and
`oos_recall` 0.9), the threshold is the one that meets both with the most confidence: it maximises the
smaller of the two margins over the targets, each in standard errors of its val estimate (the val split has
thousands of in-scope examples but often only ~100 out-of-scope ones). With `in_scope_accuracy` 0 it is the
lowest whose out-of-scope recall reaches `oos_recall` with 95 % confidence (or, with `oos_recall` 0 too, the
one that maximises in-scope accuracy + out-of-scope recall); without out-of-scope examples, it maximises
(answered correctly - answered wrongly).
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
# All six of MiniLM's layers fine-tune (on CLINC150's val split the whole encoder separated out-of-scope
# questions better than the top four alone: AUROC 0.988 against 0.985), 4 epochs with a 6 % warm-up; the
# threshold meets both targets on val with the widest margin (see choose_threshold). Measured in
# docs/benchmarks.md (CLINC150, Bitext).
DEFAULT_OPTIONS: dict[str, Any] = {
    "train_layers": "all", "max_length": 32, "epochs": 0, "batch_size": 32, "lr": 0.0, "warmup": 0.06,
    "oos_score": "energy", "oos_recall": 0.9, "in_scope_accuracy": 0.95, "seed": 0,
}
OOS_SCORES = ("energy", "max_prob")


def in_scope_scores(logits: np.ndarray, labels: Sequence[str], kind: str) -> np.ndarray:
    """How in-scope each row looks (higher: more): "energy", the log-sum-exp of the logits of every label
    but `oos`; "max_prob", the top softmax probability (over all labels, `oos` included)."""
    logits = np.asarray(logits, dtype=np.float64)
    if kind == "max_prob":
        return softmax(logits).max(axis=1)
    if kind != "energy":
        raise ValueError(f"oos_score must be one of {', '.join(OOS_SCORES)}, not {kind!r}")
    keep = [i for i, label in enumerate(labels) if label != OOS]
    part = logits[:, keep]
    top = part.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(part - top).sum(axis=1, keepdims=True)))[:, 0]


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass
class ServedIntentModel:
    """What `chat_intent` versions load as: the classifier, its labels and the chosen threshold."""

    classifier: Any
    labels: list[str]
    threshold: float  # on the in-scope score (`score`)
    task: str = TASK
    info: dict[str, Any] = field(default_factory=dict)
    score: str = "max_prob"  # see in_scope_scores (versions trained before "energy" have none: max_prob)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.classifier.predict_proba(texts, self.task)

    def proba_and_scores(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Intent probabilities and in-scope scores, one row/value per text."""
        logits = self.classifier.predict_logits_features(self.classifier.features(texts), self.task)
        return softmax(np.asarray(logits, dtype=np.float64)), in_scope_scores(logits, self.labels, self.score)

    def analyse(self, text: str) -> tuple[np.ndarray, float, SentenceVector]:
        """One message: its intent probabilities, its in-scope score, and a function that gives the frozen encoder's sentence
        embedding of the same message (for retrieval) from the encoder layers already run for the intent,
        instead of encoding the message a second time. The function gives None when the message is longer
        than `max_length` tokens (the classifier read only part of it) or than the caller's limit."""
        encoding = self.classifier.encode_message(text)
        logits = np.asarray(self.classifier.predict_logits_features(encoding.features(), self.task), dtype=np.float64)
        proba = softmax(logits)[0]
        score = float(in_scope_scores(logits, self.labels, self.score)[0])

        def sentence_vector(max_length: int) -> torch.Tensor | None:
            if encoding.truncated or encoding.input_ids.shape[1] > max_length:
                return None
            return self.classifier.sentence_embedding(encoding)

        return proba, score, sentence_vector


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


def thresholded(proba: np.ndarray, labels: Sequence[str], threshold: float, scores: np.ndarray | None = None) -> np.ndarray:
    """Predicted class per row: the likeliest, or `oos` (-1 when the labels have none) when its in-scope
    score (default: the top probability) is below the threshold."""
    predicted = proba.argmax(axis=1)
    unsure = (proba.max(axis=1) if scores is None else np.asarray(scores)) < threshold
    oos = list(labels).index(OOS) if OOS in labels else -1
    return np.where(unsure, oos, predicted)


def threshold_metrics(
    proba: np.ndarray, truth: Sequence[int] | np.ndarray, labels: Sequence[str], threshold: float, scores: np.ndarray | None = None
) -> dict[str, Any]:
    """Accuracy and macro-F1 with unsure answers counted as `oos`; in-scope accuracy and out-of-scope
    recall when the truth has `oos` items (else None); the share of messages answered."""
    from sklearn.metrics import f1_score

    truth = np.asarray(truth)
    predicted = thresholded(proba, labels, threshold, scores)
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


def candidate_thresholds(scores: np.ndarray | None) -> np.ndarray:
    """0, 0.01, ..., 0.99 for the top probability; else up to 1001 quantiles of the scores given."""
    if scores is None:
        return np.round(np.arange(0.0, 1.0, 0.01), 2)
    return np.unique(np.quantile(np.asarray(scores, dtype=np.float64), np.linspace(0, 1, 1001)))


def choose_threshold(
    proba: np.ndarray, truth: Sequence[int] | np.ndarray, labels: Sequence[str], *, oos_recall: float | None = None,
    in_scope_accuracy: float | None = None, scores: np.ndarray | None = None,
) -> float:
    """The threshold on the in-scope score (`scores`; default the top probability, 0..0.99) that does best
    on a validation split (see the module docstring).

    With out-of-scope examples, `oos_recall` and `in_scope_accuracy`: the threshold whose weaker margin
    over the two targets is the largest, each margin in standard errors of its estimate on this split
    (sqrt(target (1 - target) / n)), so that 100 out-of-scope examples count for what they can tell.
    With `oos_recall` alone: the threshold that answers the most in-scope examples right among those whose
    out-of-scope recall is at least `oos_recall` with 95 % confidence (the one-sided Wilson lower bound of
    the recall on the val split's few out-of-scope examples: the lowest threshold that merely reaches the
    target on val falls short on new data, having been picked for val's luck); if none is, among those that
    reach the target on val; if none does, the one that catches the most."""
    truth = np.asarray(truth)
    candidates = candidate_thresholds(scores)
    if not len(truth):
        return 0.5 if scores is None else float(candidates[0])
    oos = list(labels).index(OOS) if OOS in labels else -1
    has_oos = bool((truth == oos).any())
    score_list: list[float] = []
    in_scope = truth != oos
    if has_oos and oos_recall:
        rows = [thresholded(proba, labels, t, scores) for t in candidates]
        recall = np.array([(predicted[~in_scope] == oos).mean() for predicted in rows])
        right = np.array([(predicted[in_scope] == truth[in_scope]).mean() if in_scope.any() else 0.0 for predicted in rows])
        n_oos, n_in = int((~in_scope).sum()), int(in_scope.sum())
        if in_scope_accuracy and n_in:
            recall_se = math.sqrt(oos_recall * (1 - oos_recall) / n_oos) or 1.0 / n_oos
            accuracy_se = math.sqrt(in_scope_accuracy * (1 - in_scope_accuracy) / n_in) or 1.0 / n_in
            margin = np.minimum((recall - oos_recall) / recall_se, (right - in_scope_accuracy) / accuracy_se)
            return float(candidates[int(np.argmax(margin))])  # of ties, the lowest (the most answered)
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
        predicted = thresholded(proba, labels, threshold, scores)
        if has_oos:
            kept = (predicted[in_scope] == truth[in_scope]).mean() if in_scope.any() else 0.0
            score_list.append(kept + (predicted[~in_scope] == oos).mean())
        else:
            answered = predicted != oos
            score_list.append((((predicted == truth) & answered).sum() - ((predicted != truth) & answered).sum()) / len(truth))
    score_array = np.asarray(score_list)
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
    model = ServedIntentModel(classifier, list(labels), 0.5, info={"fit_s": round(fit_s, 2)}, score=str(options["oos_score"]))
    if len(val_texts):
        proba, scores = model.proba_and_scores(list(val_texts))
        model.threshold = choose_threshold(proba, val_targets, labels, scores=scores, **threshold_targets(options))
    elif model.score != "max_prob":
        model.threshold = -1e9  # nothing to choose it on: only `oos` as the likeliest intent refuses
    return model


def threshold_targets(options: dict[str, Any]) -> dict[str, float | None]:
    """choose_threshold's targets from the training options (0 or absent: none)."""
    return {"oos_recall": float(options.get("oos_recall") or 0) or None,
            "in_scope_accuracy": float(options.get("in_scope_accuracy") or 0) or None}


def latency_ms(model: ServedIntentModel, texts: Sequence[str], *, repeat: int = 200) -> tuple[float, float]:
    """p50 and p95 milliseconds of classifying one message at a time (tokenise, encode, classify)."""
    timings = []
    sample = list(texts)[:repeat] or ["where is my order"]
    model.analyse(sample[0])  # warm-up
    for text in sample:
        started = time.perf_counter()
        model.analyse(text)
        timings.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(timings, 50)), float(np.percentile(timings, 95))
