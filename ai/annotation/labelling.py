"""Labelling: the queue (with leases), annotating, skipping, undoing, reviewing, and gold labels.

Queue order: items this annotator has not labelled or skipped and that still need annotations; the most
uncertain first when a model for the set is live (its scores are on the items, see scoring.py), else
oldest first. The item handed out is leased to the annotator for LEASE_SECONDS, taken with
`select_for_update(skip_locked=True)`, so that two annotators never get the same item at once.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ai.models import Annotation, Item, Label, LabelSet, ModelVersion, Skip

from . import counters
from .locks import lock_item, lockable_queue

LEASE_SECONDS = 120


class LabellingError(ValueError):
    """A labelling request that cannot be done (unknown label, wrong number of labels…)."""


def live_model_version_id(label_set: LabelSet) -> int | None:
    return (
        ModelVersion.objects.filter(kind=label_set.model_key, status=ModelVersion.Status.LIVE)
        .values_list("pk", flat=True)
        .first()
    )


def queue_for(label_set: LabelSet, user, *, model_live: bool, now=None) -> QuerySet[Item]:
    """This annotator's queue, in order (not locked)."""
    now = now or timezone.now()
    done = Annotation.objects.filter(item=OuterRef("pk"), annotator=user)
    skipped = Skip.objects.filter(item=OuterRef("pk"), annotator=user)
    queryset = (
        Item.objects.filter(label_set=label_set, complete=False)
        .filter(Q(leased_to__isnull=True) | Q(lease_expires_at__lt=now) | Q(leased_to=user))
        .exclude(Exists(done))
        .exclude(Exists(skipped))
    )
    order = ("-uncertainty", "created_at", "id") if model_live else ("created_at", "id")
    return queryset.order_by(*order)


def next_item(label_set: LabelSet, user, *, exclude: Sequence[int] = (), model_live: bool | None = None) -> Item | None:
    """Lease and return the next item for this annotator (None when their queue is empty).

    `model_live`: whether the set has a live model (looked up when not given)."""
    now = timezone.now()
    if model_live is None:
        model_live = live_model_version_id(label_set) is not None
    with transaction.atomic():
        candidates = queue_for(label_set, user, model_live=model_live, now=now)
        if exclude:
            candidates = candidates.exclude(pk__in=list(exclude))
        item = lockable_queue(candidates).select_related("suggestion").first()
        released = Item.objects.filter(label_set=label_set, leased_to=user)
        if item is not None:
            released = released.exclude(pk=item.pk)
            item.leased_to, item.lease_expires_at = user, now + timedelta(seconds=LEASE_SECONDS)
            item.save(update_fields=["leased_to", "lease_expires_at"])
        released.update(leased_to=None, lease_expires_at=None)
    return item


def _clean_labels(item: Item, label_ids: Sequence[int]) -> list[int]:
    try:
        wanted = sorted({int(pk) for pk in label_ids})
    except (TypeError, ValueError):
        raise LabellingError("labels must be label ids") from None
    if not wanted:
        raise LabellingError("choose at least one label")
    if item.label_set.task == LabelSet.Task.SINGLE and len(wanted) != 1:
        raise LabellingError("this set takes exactly one label per item")
    known = set(Label.objects.filter(label_set_id=item.label_set_id, pk__in=wanted).values_list("pk", flat=True))
    if len(known) != len(wanted):
        raise LabellingError("unknown label for this set")
    return wanted


@dataclass
class AnnotateResult:
    item: Item
    created: bool  # False when the annotator changed their earlier labels


def annotate(item_id: int, user, label_ids: Sequence[int], *, accepted_suggestion: bool = False, label_set_id: int | None = None) -> AnnotateResult:
    """Store this annotator's labels for the item (replacing theirs, if any) and update its gold label."""
    with transaction.atomic():
        item = lock_item(item_id)
        if label_set_id is not None and item.label_set_id != label_set_id:
            raise LabellingError("the item is not in this label set")
        wanted = _clean_labels(item, label_ids)
        was_complete = item.complete
        mine = Annotation.objects.filter(item=item, annotator=user)
        created = not mine.exists()
        mine.delete()
        Annotation.objects.bulk_create(
            [Annotation(item=item, label_id=pk, annotator=user, accepted_suggestion=accepted_suggestion) for pk in wanted]
        )
        if item.leased_to_id == user.pk:
            item.leased_to, item.lease_expires_at = None, None
        refresh_gold(item)
        item.save(update_fields=[*GOLD_FIELDS, "leased_to", "lease_expires_at"])
        counters.completion_changed(item.label_set_id, was_complete, item.complete)
        if created:
            counters.annotator_items(item.label_set_id, user.pk, 1)
    return AnnotateResult(item, created)


def skip(item_id: int, user, *, label_set_id: int | None = None) -> None:
    with transaction.atomic():
        item = lock_item(item_id)
        if label_set_id is not None and item.label_set_id != label_set_id:
            raise LabellingError("the item is not in this label set")
        Skip.objects.get_or_create(item=item, annotator=user)
        if item.leased_to_id == user.pk:
            Item.objects.filter(pk=item.pk).update(leased_to=None, lease_expires_at=None)


def undo_last(label_set: LabelSet, user) -> Item | None:
    """Remove this annotator's most recent labels in the set; returns that item (None: nothing to undo)."""
    last = (
        Annotation.objects.filter(annotator=user, item__label_set=label_set)
        .order_by("-created_at", "-pk")
        .values_list("item_id", flat=True)
        .first()
    )
    if last is None:
        return None
    with transaction.atomic():
        item = lock_item(last)
        was_complete = item.complete
        removed, _ = Annotation.objects.filter(item=item, annotator=user).delete()
        refresh_gold(item)
        item.save(update_fields=GOLD_FIELDS)
        counters.completion_changed(item.label_set_id, was_complete, item.complete)
        if removed:
            counters.annotator_items(item.label_set_id, user.pk, -1)
    return item


def resolve(item_id: int, reviewer, label_ids: Sequence[int], *, label_set_id: int | None = None) -> Item:
    """A reviewer's decision: it becomes the gold label and the item leaves the review queue."""
    with transaction.atomic():
        item = lock_item(item_id)
        if label_set_id is not None and item.label_set_id != label_set_id:
            raise LabellingError("the item is not in this label set")
        wanted = _clean_labels(item, label_ids)
        was_complete = item.complete
        _set_gold(item, wanted, Item.GoldSource.REVIEW)
        item.disagreement = False
        item.complete = True
        item.save(update_fields=GOLD_FIELDS)
        counters.completion_changed(item.label_set_id, was_complete, True)
    return item


GOLD_FIELDS = ["annotation_count", "complete", "disagreement", "gold_labels", "gold_label", "gold_source"]


def _set_gold(item: Item, label_ids: list[int], source: str) -> None:
    single = item.label_set.task == LabelSet.Task.SINGLE
    item.gold_labels = list(label_ids)
    item.gold_label_id = label_ids[0] if label_ids and single else None
    item.gold_source = source if label_ids else Item.GoldSource.NONE


def refresh_gold(item: Item) -> None:
    """Recompute the item's queue state and gold label from its annotations (the item is locked).

    A reviewer's decision stands. Otherwise, once `overlap` annotators have labelled it, their common
    answer is gold (one annotator's, with overlap 1); if they differ the item goes to review.
    Imported labels stay gold until people label the item.
    """
    choices: dict[int, list[int]] = {}
    for annotator_id, label_id in Annotation.objects.filter(item=item, origin=Annotation.Origin.HUMAN).values_list("annotator_id", "label_id"):
        choices.setdefault(annotator_id, []).append(label_id)
    answers = {tuple(sorted(labels)) for labels in choices.values()}
    item.annotation_count = len(choices)
    if item.gold_source == Item.GoldSource.REVIEW:
        item.complete = True
        return
    if not choices and item.gold_source == Item.GoldSource.IMPORT:
        item.complete = True
        item.disagreement = False
        return
    enough = len(choices) >= item.label_set.overlap
    item.complete = enough
    item.disagreement = enough and len(answers) > 1
    if enough and len(answers) == 1:
        _set_gold(item, list(next(iter(answers))), Item.GoldSource.AGREEMENT)
    else:
        _set_gold(item, [], Item.GoldSource.NONE)
