"""Agreement between annotators: Cohen's kappa per pair (scikit-learn), Fleiss' kappa for the set
(statsmodels), and per-label specific agreement.

Each annotator's answer for an item is the set of labels they gave (one label in a single-label set).
Per-label agreement for label j is sum_i n_ij (n_ij - 1) / sum_i n_ij (n_i - 1) over items i with two
or more annotators, n_ij of whom chose j: of the annotator pairs where one chose j, the share where
the other did too.
"""
from __future__ import annotations

import math
from collections import defaultdict
from itertools import combinations
from typing import Any

import numpy as np

from ai.models import Annotation, LabelSet


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def answers_by_item(label_set: LabelSet) -> dict[int, dict[int, tuple[int, ...]]]:
    """{item id: {annotator id: (label ids…)}} of the set's human annotations."""
    chosen: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    rows = Annotation.objects.filter(item__label_set=label_set, origin=Annotation.Origin.HUMAN).values_list(
        "item_id", "annotator_id", "label_id"
    )
    for item_id, annotator_id, label_id in rows:
        chosen[item_id][annotator_id].append(label_id)
    return {item: {who: tuple(sorted(labels)) for who, labels in people.items()} for item, people in chosen.items()}


def cohen_pairs(answers: dict[int, dict[int, tuple[int, ...]]]) -> list[dict[str, Any]]:
    """Cohen's kappa for every pair of annotators who labelled at least two items in common."""
    from sklearn.metrics import cohen_kappa_score  # here, not at import: scikit-learn costs every process seconds

    annotators = sorted({who for people in answers.values() for who in people})
    pairs = []
    for a, b in combinations(annotators, 2):
        common = [people for people in answers.values() if a in people and b in people]
        if len(common) < 2:
            continue
        first = [str(people[a]) for people in common]
        second = [str(people[b]) for people in common]
        kappa = cohen_kappa_score(first, second) if len(set(first) | set(second)) > 1 else float("nan")
        pairs.append(
            {
                "annotators": (a, b),
                "items": len(common),
                "observed": sum(x == y for x, y in zip(first, second, strict=True)) / len(common),
                "kappa": _finite(kappa),
            }
        )
    return pairs


def fleiss(answers: dict[int, dict[int, tuple[int, ...]]], raters: int) -> tuple[float | None, int]:
    """Fleiss' kappa over the items with exactly `raters` annotators; returns (kappa, items used)."""
    from statsmodels.stats.inter_rater import fleiss_kappa  # here, not at import (as scikit-learn above)

    rows = [list(people.values()) for people in answers.values() if len(people) == raters]
    if raters < 2 or len(rows) < 2:
        return None, len(rows)
    categories = sorted({answer for row in rows for answer in row})
    index = {answer: i for i, answer in enumerate(categories)}
    table = np.zeros((len(rows), len(categories)), dtype=int)
    for r, row in enumerate(rows):
        for answer in row:
            table[r, index[answer]] += 1
    if len(categories) < 2:
        return None, len(rows)
    return _finite(fleiss_kappa(table, method="fleiss")), len(rows)


def per_label(answers: dict[int, dict[int, tuple[int, ...]]]) -> dict[int, float | None]:
    agree: dict[int, float] = defaultdict(float)
    possible: dict[int, float] = defaultdict(float)
    for people in answers.values():
        n = len(people)
        if n < 2:
            continue
        counts: dict[int, int] = defaultdict(int)
        for labels in people.values():
            for label in labels:
                counts[label] += 1
        for label, count in counts.items():
            agree[label] += count * (count - 1)
            possible[label] += count * (n - 1)
    return {label: (agree[label] / possible[label] if possible[label] else None) for label in possible}


def agreement_report(label_set: LabelSet) -> dict[str, Any]:
    """Everything the set's admin page shows about agreement."""
    answers = answers_by_item(label_set)
    multi = [people for people in answers.values() if len(people) >= 2]
    raters = max(2, label_set.overlap)
    kappa, used = fleiss(answers, raters)
    return {
        "items_with_several": len(multi),
        "pairs": cohen_pairs(answers),
        "fleiss_kappa": kappa,
        "fleiss_items": used,
        "fleiss_raters": raters,
        "per_label": per_label(answers),
    }
