"""Active learning, simulated on a labelled file: does asking about the uncertain texts pay?

Start from `seed_per_label` labelled examples per label, train, let the strategy pick `batch` more from
the rest of the training split (their labels come from the file), retrain, and measure test accuracy
after each round. `uncertainty` picks the texts the current model is least sure of; `random` picks at
random. The frozen part of the encoder is computed once for every text, so each round only refits.
"""
from __future__ import annotations

import csv
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .evaluation import evaluation_report
from .model import ClassifierConfig, Features, TaskSpec, TextClassifier
from .uncertainty import uncertainty

STRATEGIES = ("uncertainty", "random")


@dataclass
class IntentsData:
    texts: list[str]
    labels: list[str]
    splits: list[str]


def read_intents(path: str | Path, *, exclude: Sequence[str] = ()) -> IntentsData:
    """An intents-format CSV (`text,label,split`), without the rows whose label is in `exclude`."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    data = IntentsData([], [], [])
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "label", "split"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))} (need text,label,split)")
        for row in reader:
            if row["label"] in exclude:
                continue
            if row["split"] not in ("train", "val", "test"):
                raise ValueError(f"{path}, line {reader.line_num}: unknown split {row['split']!r}")
            data.texts.append(row["text"])
            data.labels.append(row["label"])
            data.splits.append(row["split"])
    return data


def _seed_positions(targets: np.ndarray, per_label: int, rng: random.Random) -> list[int]:
    by_label: dict[int, list[int]] = defaultdict(list)
    for position, target in enumerate(targets):
        by_label[int(target)].append(position)
    chosen = []
    for label in sorted(by_label):
        positions = by_label[label]
        if len(positions) < per_label:
            raise ValueError(f"label {label} has only {len(positions)} training examples (< --seed-per-label {per_label})")
        chosen += rng.sample(positions, per_label)
    return chosen


def simulate(
    texts: Sequence[str],
    labels: Sequence[str],
    splits: Sequence[str],
    *,
    seed_per_label: int,
    batch: int,
    rounds: int,
    strategies: Sequence[str] = STRATEGIES,
    uncertainty_strategy: str = "least_confident",
    diverse: int = 0,
    config: ClassifierConfig | None = None,
    seed: int = 0,
    full: bool = True,
    log: Callable[[str], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """One result per round and strategy: strategy, round, labels, accuracy, macro_f1, fit_s.

    Round 0 is the seed set. With `full`, a last row (strategy "full") trains on the whole training split.
    `diverse` > 0 makes the uncertainty picks a diverse batch: the `diverse` × `batch` most uncertain
    texts are clustered into `batch` groups on their sentence embeddings (k-means weighted by
    uncertainty), and the text nearest each group's centre is taken (Zhdanov 2019, "Diverse mini-batch
    active learning"), so that one round does not spend its labels on near-copies of one confusion.
    """
    if seed_per_label < 1 or batch < 1 or rounds < 0:
        raise ValueError("--seed-per-label and --batch must be at least 1, --rounds at least 0")
    unknown = set(strategies) - set(STRATEGIES)
    if unknown:
        raise ValueError(f"unknown strategy {sorted(unknown)[0]!r} ({', '.join(STRATEGIES)})")
    names = sorted(set(labels))
    index = {name: i for i, name in enumerate(names)}
    train = [i for i, split in enumerate(splits) if split == "train"]
    test = [i for i, split in enumerate(splits) if split == "test"]
    if not train or not test:
        raise ValueError("the file needs train and test rows")
    config = config or ClassifierConfig(train_layers=0)
    spec = TaskSpec(names)
    encoder = TextClassifier({"task": spec}, config)
    started = time.monotonic()
    train_features = encoder.features([texts[i] for i in train])
    test_features = encoder.features([texts[i] for i in test])
    if log:
        log(f"encoded {len(train)} train and {len(test)} test texts in {time.monotonic() - started:.1f} s")
    train_targets = np.array([index[labels[i]] for i in train])
    test_targets = [index[labels[i]] for i in test]
    seed_set = _seed_positions(train_targets, seed_per_label, random.Random(seed))

    def fit_and_score(positions: list[int]) -> tuple[TextClassifier, dict[str, Any]]:
        model = TextClassifier({"task": spec}, config)
        begin = time.monotonic()
        model.fit_features({"task": train_features.subset(positions)}, {"task": train_targets[positions].tolist()})
        fit_s = time.monotonic() - begin
        report = evaluation_report(test_targets, model.predict_proba_features(test_features), names)
        return model, {"accuracy": round(report["accuracy"], 4), "macro_f1": round(report["macro_f1"], 4), "fit_s": round(fit_s, 2)}

    for strategy in strategies:
        rng = random.Random(seed + 1)
        labelled = list(seed_set)
        for round_number in range(rounds + 1):
            model, scores = fit_and_score(labelled)
            row = {"strategy": strategy, "round": round_number, "labels": len(labelled), **scores}
            if log:
                log(f"[{strategy}] round {round_number}: {row}")
            yield row
            if round_number == rounds:
                break
            taken = set(labelled)
            pool = [p for p in range(len(train)) if p not in taken]
            labelled += _pick(strategy, model, train_features, pool, batch, rng, uncertainty_strategy, diverse)
    if full:
        _, scores = fit_and_score(list(range(len(train))))
        yield {"strategy": "full", "round": None, "labels": len(train), **scores}


def _pick(
    strategy: str, model: TextClassifier, features: Features, pool: list[int], batch: int, rng: random.Random, measure: str,
    diverse: int = 0,
) -> list[int]:
    if len(pool) <= batch:
        return pool
    if strategy == "random":
        return rng.sample(pool, batch)
    candidates = features.subset(pool)
    scores = uncertainty(model.predict_proba_features(candidates), measure)
    # Most uncertain first; ties by position so that runs repeat exactly.
    order = np.lexsort((np.array(pool), -scores))
    if diverse <= 0 or candidates.pooled is None:
        return [pool[i] for i in order[:batch]]
    top = order[: diverse * batch]
    return [pool[i] for i in top[diverse_batch(candidates.pooled[top].numpy(), scores[top], batch, seed=rng.randrange(2**31))]]


def diverse_batch(embeddings: np.ndarray, weights: np.ndarray, batch: int, *, seed: int = 0) -> np.ndarray:
    """Positions of `batch` rows, one per k-means cluster (weighted): the row nearest each centre."""
    from sklearn.cluster import KMeans

    if len(embeddings) <= batch:
        return np.arange(len(embeddings))
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    kmeans = KMeans(n_clusters=batch, n_init=1, max_iter=50, random_state=seed).fit(unit, sample_weight=np.maximum(weights, 1e-6))
    distances = kmeans.transform(unit)  # (rows, clusters)
    chosen: list[int] = []
    taken: set[int] = set()
    for cluster in range(batch):
        members = np.flatnonzero(kmeans.labels_ == cluster)
        if len(members) == 0:
            continue
        best = int(members[np.argmin(distances[members, cluster])])
        chosen.append(best)
        taken.add(best)
    if len(chosen) < batch:  # empty clusters: fill with the most uncertain rows not taken
        rest = [int(i) for i in np.argsort(-weights, kind="stable") if int(i) not in taken]
        chosen += rest[: batch - len(chosen)]
    return np.array(chosen)
