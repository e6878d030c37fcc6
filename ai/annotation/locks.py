"""Every locking query of the annotation workbench, in one place."""
from __future__ import annotations

from django.db.models import QuerySet

from ai.models import Item, LabelSet


def lock_label_set(label_set_id: int) -> LabelSet:
    """The set's row, locked: imports and bulk additions to one set run one after the other."""
    return LabelSet.objects.select_for_update().get(pk=label_set_id)


def lock_item(item_id: int) -> Item:
    """One item, locked while its annotations and gold label change."""
    return Item.objects.select_for_update().select_related("label_set").get(pk=item_id)


def lockable_queue(queryset: QuerySet[Item]) -> QuerySet[Item]:
    """Queue candidates, skipping rows another annotator's transaction holds (no waiting)."""
    return queryset.select_for_update(skip_locked=True, of=("self",))
