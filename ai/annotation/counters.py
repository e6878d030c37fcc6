"""The progress counters the labelling page shows, kept with F() in the transactions that change them.

A set's `item_count` and `complete_count` and each annotator's `AnnotatorProgress.items`: the page reads
them in one query instead of counting a set's items (100,000 of them) on every request. `recount` puts
them right from the rows themselves (after items are deleted, and in the migration that added them).
"""
from __future__ import annotations

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from ai.models import Annotation, AnnotatorProgress, Item, LabelSet


def items_added(label_set_id: int, count: int, *, complete: int = 0) -> None:
    if count or complete:
        LabelSet.objects.filter(pk=label_set_id).update(
            item_count=F("item_count") + count, complete_count=F("complete_count") + complete
        )


def completion_changed(label_set_id: int, was_complete: bool, is_complete: bool) -> None:
    if was_complete != is_complete:
        LabelSet.objects.filter(pk=label_set_id).update(complete_count=F("complete_count") + (1 if is_complete else -1))


def annotator_items(label_set_id: int, annotator_id: int, delta: int) -> None:
    """This annotator labelled one more item of the set (delta 1) or undid one (delta -1)."""
    if not delta:
        return
    mine = AnnotatorProgress.objects.filter(label_set_id=label_set_id, annotator_id=annotator_id)
    if not mine.update(items=F("items") + delta):
        _, created = AnnotatorProgress.objects.get_or_create(
            label_set_id=label_set_id, annotator_id=annotator_id, defaults={"items": max(delta, 0)}
        )
        if not created:
            mine.update(items=F("items") + delta)


def progress(label_set_id: int, annotator_id: int) -> dict[str, int]:
    """Total, done and remaining items of the set, and how many this annotator labelled: one query."""
    mine = AnnotatorProgress.objects.filter(label_set_id=OuterRef("pk"), annotator_id=annotator_id).values("items")[:1]
    row = (
        LabelSet.objects.filter(pk=label_set_id)
        .annotate(mine=Coalesce(Subquery(mine), 0))
        .values("item_count", "complete_count", "mine")
        .get()
    )
    total, done = row["item_count"], row["complete_count"]
    return {"total": total, "done": done, "remaining": total - done, "mine": row["mine"]}


def recount(label_set: LabelSet) -> None:
    """Every counter of the set from its items and annotations (a few full counts: not for each request)."""
    counts = Item.objects.filter(label_set=label_set).aggregate(total=Count("pk"), done=Count("pk", filter=Q(complete=True)))
    LabelSet.objects.filter(pk=label_set.pk).update(item_count=counts["total"], complete_count=counts["done"])
    per_annotator = (
        Annotation.objects.filter(item__label_set=label_set, origin=Annotation.Origin.HUMAN, annotator__isnull=False)
        .values("annotator_id")
        .annotate(items=Count("item_id", distinct=True))
    )
    AnnotatorProgress.objects.filter(label_set=label_set).delete()
    AnnotatorProgress.objects.bulk_create(
        [AnnotatorProgress(label_set=label_set, annotator_id=row["annotator_id"], items=row["items"]) for row in per_annotator]
    )
