"""The progress counters (ai.annotation.counters) follow every change and equal a full recount; the
bulk insert gives the same rows through COPY (PostgreSQL) as through bulk_create."""
from __future__ import annotations

import pytest

from ai.annotation import bulk, counters
from ai.annotation.importing import import_items
from ai.annotation.labelling import annotate, resolve, undo_last
from ai.annotation.services import add_items
from ai.models import Annotation, AnnotatorProgress, Item, LabelSet
from tests.factories import UserFactory

from .conftest import make_label_set

pytestmark = pytest.mark.django_db


def stored(label_set: LabelSet) -> tuple[int, int, dict[str, int]]:
    label_set.refresh_from_db()
    mine = {row.annotator.username: row.items for row in AnnotatorProgress.objects.filter(label_set=label_set).select_related("annotator")}
    return label_set.item_count, label_set.complete_count, mine


def recounted(label_set: LabelSet) -> tuple[int, int, dict[str, int]]:
    counters.recount(label_set)
    return stored(label_set)


def test_counters_follow_imports_annotations_undo_review_and_equal_a_recount():
    label_set = make_label_set("Pairs", overlap=2)
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    order, refund = (label_set.labels.get(name=n).pk for n in ("order", "refund"))
    import_items(label_set, b"text,label\nwhere is it,order\nmoney back,refund\nhello,\nwhere is it,order\n", "csv")
    assert stored(label_set) == (3, 2, {})
    add_items(label_set, ["one", "two", "hello"], source="test")
    assert stored(label_set) == (5, 2, {})
    one, two, hello = (Item.objects.get(label_set=label_set, text=t).pk for t in ("one", "two", "hello"))
    annotate(one, ann, [order])
    annotate(one, ann, [refund])  # a relabel is not a second item
    assert stored(label_set) == (5, 2, {"ann": 1})
    annotate(one, bob, [order])  # overlap 2 reached (disagreeing): complete, to review
    annotate(two, bob, [order])
    assert stored(label_set) == (5, 3, {"ann": 1, "bob": 2})
    undo_last(label_set, bob)  # "two": bob's only annotation
    assert stored(label_set) == (5, 3, {"ann": 1, "bob": 1})
    undo_last(label_set, bob)  # "one" incomplete again
    assert stored(label_set) == (5, 2, {"ann": 1, "bob": 0})
    resolve(hello, ann, [order])
    assert stored(label_set) == (5, 3, {"ann": 1, "bob": 0})
    assert recounted(label_set) == (5, 3, {"ann": 1})  # the same, without bob's row of 0


def test_progress_is_one_query_with_the_annotators_count(django_assert_num_queries):
    label_set = make_label_set()
    ann = UserFactory(username="ann")
    add_items(label_set, [f"text {i}" for i in range(4)], source="test")
    annotate(Item.objects.filter(label_set=label_set).first().pk, ann, [label_set.labels.first().pk])
    with django_assert_num_queries(1):
        assert counters.progress(label_set.pk, ann.pk) == {"total": 4, "done": 1, "remaining": 3, "mine": 1}
    assert counters.progress(label_set.pk, UserFactory(username="new").pk)["mine"] == 0


def test_deleting_items_in_the_admin_recounts(admin_client):
    label_set = make_label_set()
    add_items(label_set, ["a", "b", "c"], source="test")
    annotate(Item.objects.get(text="a").pk, UserFactory(username="ann"), [label_set.labels.first().pk])
    ids = list(Item.objects.filter(text__in=["a", "b"]).values_list("pk", flat=True))
    response = admin_client.post("/admin/ai/item/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert response.status_code == 302
    assert stored(label_set) == (1, 0, {})


ROWS = "text,label,split,channel\n" + "".join(
    f"text number {n},{['order', 'refund', ''][n % 3]},{['train', 'test', ''][n % 2]},{'chat' if n % 5 else 'mail'}\n" for n in range(300)
) + "text number 7,order,,chat\n"


def import_snapshot(label_set: LabelSet):
    names = dict(label_set.labels.values_list("pk", "name"))
    items = [
        (*row[:4], [names[pk] for pk in row[4]], *row[5:])  # gold labels by name: the two sets' label ids differ
        for row in Item.objects.filter(label_set=label_set).order_by("text").values_list(
            "text", "metadata", "split", "complete", "gold_labels", "gold_label__name", "gold_source", "source", "source_ref",
            "annotation_count", "uncertainty",
        )
    ]
    annotations = sorted(
        Annotation.objects.filter(item__label_set=label_set).values_list("item__text", "label__name", "origin", "annotator")
    )
    return items, annotations


@pytest.mark.django_db(transaction=True)
def test_copy_import_on_postgres_stores_what_bulk_create_stores(require_postgres, monkeypatch):
    copied, created = make_label_set("Copied"), make_label_set("Created")
    result = import_items(copied, ROWS.encode(), "csv")  # 300 rows: COPY
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", 10**9)
    import_items(created, ROWS.encode(), "csv")
    assert (result.created, result.duplicates, result.labelled) == (300, 1, 200)
    items, annotations = import_snapshot(copied)
    assert (items, annotations) == import_snapshot(created)
    assert items[0] == ("text number 0", {"channel": "mail"}, "train", True, ["order"], "order", "import", "import", "import:row:2", 0, 0.0)
    assert Item.objects.get(label_set=copied, text="text number 0").gold_labels == [copied.labels.get(name="order").pk]
    assert len(annotations) == 200
    assert stored(copied)[:2] == (300, 200)
    # The ids came from the table's sequence: new items get later ones.
    add_items(copied, ["after the import"], source="test")
    assert Item.objects.get(text="after the import").pk > max(Item.objects.filter(label_set=copied).exclude(text="after the import").values_list("pk", flat=True))
