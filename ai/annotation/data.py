"""A label set's gold labels as training data for classifiers (text_classifier, chat_intent)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ai.models import Item, Label, LabelSet

MIN_EXAMPLES_PER_LABEL = 5


class NotEnoughLabels(ValueError):
    """The set's gold labels cannot train a classifier yet; the message says what is missing."""


@dataclass
class GoldData:
    label_set: LabelSet
    label_ids: list[int]  # the model's classes, in order
    label_names: list[str]
    texts: list[str]
    targets: list  # class index (single-label) or list of class indices (multi-label)
    splits: list[str]
    item_ids: list[int]

    @property
    def multi_label(self) -> bool:
        return self.label_set.task == LabelSet.Task.MULTI


def gold_data(label_set: LabelSet, *, min_per_label: int = MIN_EXAMPLES_PER_LABEL) -> GoldData:
    """Every item with a gold label. Labels nobody used are left out; a used label needs `min_per_label`
    examples and at least two labels must be used, else NotEnoughLabels."""
    labels = list(Label.objects.filter(label_set=label_set).order_by("position", "pk").values_list("pk", "name"))
    rows = list(
        Item.objects.filter(label_set=label_set).exclude(gold_source="").order_by("pk").values_list("pk", "text", "gold_labels", "split")
    )
    counts = Counter(label_id for _, _, gold, _ in rows for label_id in gold)
    used = [(pk, name) for pk, name in labels if counts[pk]]
    if len(used) < 2:
        raise NotEnoughLabels(
            f"{label_set.name}: gold labels use {len(used)} label(s); a classifier needs at least 2 labels with "
            f"{min_per_label} or more examples each"
        )
    short = [f"{name} ({counts[pk]})" for pk, name in used if counts[pk] < min_per_label]
    if short:
        raise NotEnoughLabels(
            f"{label_set.name}: every label needs at least {min_per_label} gold examples; too few for " + ", ".join(short)
        )
    index = {pk: position for position, (pk, _) in enumerate(used)}
    multi = label_set.task == LabelSet.Task.MULTI
    texts, targets, splits, item_ids = [], [], [], []
    for pk, text, gold, split in rows:
        classes = sorted(index[label_id] for label_id in gold if label_id in index)
        if not classes:
            continue
        texts.append(text)
        targets.append(classes if multi else classes[0])
        splits.append(split)
        item_ids.append(pk)
    return GoldData(label_set, [pk for pk, _ in used], [name for _, name in used], texts, targets, splits, item_ids)
