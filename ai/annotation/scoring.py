"""The live model's suggestions and uncertainty on a set's items: what orders the queue and pre-annotates.

`score_label_set` runs as the Celery task `ai.tasks.score_label_set` when a set's live text_classifier
version changes (noticed by the labelling page: `schedule_scoring`); it is idempotent: items already
scored by the live version are left alone. It is sent like a training run, through
`ai.training.dispatch` after the commit: to a worker on AI_TRAIN_QUEUE (it needs the model), or run in
this process when there is no broker.
"""
from __future__ import annotations

import logging

import numpy as np
from django.db import transaction
from django.db.models import Q

from ai import registry
from ai.conf import ai_settings
from ai.models import Item, LabelSet, ModelVersion
from ai.textclf import uncertainty
from ai.training import dispatch

logger = logging.getLogger("ai.annotation")
BATCH = 512


def score_label_set(label_set_id: int) -> int:
    """Score the set's incomplete items with its live model; returns how many were scored."""
    label_set = LabelSet.objects.get(pk=label_set_id)
    loaded = registry.live_loaded(label_set.model_key)
    if loaded is None:
        return 0
    model = loaded.model
    task = label_set.slug
    label_ids = model.label_sets[task]["label_ids"]
    multi = label_set.task == LabelSet.Task.MULTI
    pending = Item.objects.filter(label_set=label_set, complete=False).filter(
        Q(scored_version__isnull=True) | ~Q(scored_version=loaded.version_id)
    )
    scored = 0
    ids = list(pending.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        chunk = list(Item.objects.filter(pk__in=ids[start : start + BATCH]).only("pk", "text"))
        proba = model.predict_proba([item.text for item in chunk], task)
        scores = uncertainty(proba, label_set.uncertainty, multi_label=multi)
        best = proba.argmax(axis=1)
        for item, row, score, top in zip(chunk, proba, scores, best, strict=True):
            item.suggestion_id = label_ids[int(top)]
            item.suggestion_score = float(row[top])
            item.uncertainty = float(np.round(score, 6))
            item.scored_version = loaded.version_id
        Item.objects.bulk_update(chunk, ["suggestion", "suggestion_score", "uncertainty", "scored_version"])
        scored += len(chunk)
    LabelSet.objects.filter(pk=label_set.pk).update(scored_version_id=loaded.version_id)
    logger.info("Scored %d items of %s with %s v%s", scored, label_set.slug, label_set.model_key, loaded.version)
    return scored


def mark_for_scoring(label_set: LabelSet, live_version_id: int | None) -> bool:
    """Whether the set needs a scoring pass by its live version; marks it so that only one pass is queued.

    One conditional update: many page loads at once queue one task, not one each. `schedule_scoring`
    queues the task when this returns True.
    """
    if live_version_id is None or live_version_id == label_set.scored_version_id:
        return False
    marked = LabelSet.objects.filter(pk=label_set.pk).exclude(scored_version_id=live_version_id).update(
        scored_version_id=live_version_id
    )
    return bool(marked)


def live_version_id(label_set: LabelSet) -> int | None:
    return ModelVersion.objects.filter(kind=label_set.model_key, status=ModelVersion.Status.LIVE).values_list("pk", flat=True).first()


def schedule_scoring(label_set: LabelSet, live_version_id: int | None) -> bool:
    """Queue a scoring pass (after the commit) when the set's live model has not scored it yet."""
    if not mark_for_scoring(label_set, live_version_id):
        return False
    label_set_id = label_set.pk
    transaction.on_commit(lambda: enqueue_scoring(label_set_id, live_version_id))
    return True


def enqueue_scoring(label_set_id: int, live_version_id: int | None) -> None:
    """Score here when there is no broker, else send the task; a refused message un-marks the set, so
    that the next labelling page queues the pass again instead of never scoring the set."""
    if dispatch.in_process():
        score_label_set(label_set_id)
        return
    try:
        dispatch.send("ai.tasks.score_label_set", [label_set_id], queue=ai_settings.TRAIN_QUEUE)
    except dispatch.DispatchError:
        LabelSet.objects.filter(pk=label_set_id, scored_version_id=live_version_id).update(scored_version_id=None)
