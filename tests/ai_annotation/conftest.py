from __future__ import annotations

import pytest

from ai.models import Label, LabelSet


def make_label_set(name: str = "Intents", labels=("order", "refund", "other"), *, overlap: int = 1, task: str = "single", **extra):
    label_set = LabelSet.objects.create(name=name, slug=name.lower().replace(" ", "-"), overlap=overlap, task=task, **extra)
    Label.objects.bulk_create(
        [Label(label_set=label_set, name=label, position=index) for index, label in enumerate(labels)]
    )
    return label_set


@pytest.fixture
def label_set(db):
    return make_label_set()
