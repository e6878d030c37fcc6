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


@pytest.fixture
def artifact_root(settings, tmp_path):
    """Artifacts of each test in its own directory; no model cached between tests."""
    from ai import registry

    settings.MEDIA_ROOT = tmp_path / "media"
    registry.clear_cache()
    yield settings.MEDIA_ROOT
    registry.clear_cache()


def labelled_set(name: str = "Intents", *, per_topic: int = 10, unlabelled: int = 0, overlap: int = 1):
    """A set of the four generated topics with `per_topic` gold items each (imported), plus unlabelled items."""
    from ai.annotation.importing import import_items
    from ai.annotation.services import add_items

    from .data import TOPICS, topic_texts

    label_set = make_label_set(name, list(TOPICS), overlap=overlap)
    texts, targets = topic_texts(per_topic=per_topic)
    names = list(TOPICS)
    lines = ["text,label"] + [f"{text},{names[target]}" for text, target in zip(texts, targets, strict=True)]
    import_items(label_set, "\n".join(lines).encode(), "csv")
    if unlabelled:
        extra, _ = topic_texts(per_topic=per_topic + unlabelled, seed=1)
        add_items(label_set, [f"{text} (new {n})" for n, text in enumerate(extra[: unlabelled])], source="test")
    return label_set
