"""Queue order, leases, overlap, undo, skip, review and gold labels."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ai.annotation import labelling
from ai.annotation.labelling import LabellingError, annotate, next_item, resolve, skip, undo_last
from ai.annotation.services import add_items
from ai.models import Annotation, Item, ModelVersion
from tests.factories import UserFactory

from .conftest import make_label_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return UserFactory(username="ann"), UserFactory(username="bob"), UserFactory(username="cat")


def labels(label_set):
    return {label.name: label.pk for label in label_set.labels.all()}


def items_of(label_set, n=5):
    add_items(label_set, [f"text {i}" for i in range(n)], source="test")
    return list(Item.objects.filter(label_set=label_set).order_by("pk"))


def test_oldest_first_without_a_model_and_done_items_leave_the_queue(label_set, people):
    ann, _, _ = people
    items = items_of(label_set)
    Item.objects.filter(pk=items[0].pk).update(created_at=timezone.now() + timedelta(minutes=5))
    first = next_item(label_set, ann)
    assert first == items[1]
    annotate(first.pk, ann, [labels(label_set)["order"]])
    assert [next_item(label_set, ann, exclude=[]) for _ in range(1)] == [items[2]]


def test_uncertainty_order_when_a_model_is_live(label_set, people):
    ann, _, _ = people
    items = items_of(label_set)
    for item, score in zip(items, [0.1, 0.9, 0.5, 0.7, 0.2], strict=True):
        Item.objects.filter(pk=item.pk).update(uncertainty=score)
    # Scores alone do not reorder: only a live model's.
    assert next_item(label_set, ann) == items[0]
    ModelVersion.objects.create(kind=label_set.model_key, version=1, status="live", artifact_dir="x")
    order = []
    for _ in range(5):
        item = next_item(label_set, ann)
        order.append(items.index(item))
        skip(item.pk, ann)
    assert order == [1, 3, 2, 4, 0]


def test_leases_keep_two_annotators_apart_and_expire(label_set, people):
    ann, bob, _ = people
    items = items_of(label_set, 3)
    assert next_item(label_set, ann) == items[0]
    assert next_item(label_set, bob) == items[1]
    assert next_item(label_set, ann) == items[0]  # still hers
    Item.objects.filter(pk=items[0].pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert next_item(label_set, UserFactory(username="dan")) == items[0]


def test_overlap_two_needs_two_annotators_and_disagreement_goes_to_review(db, people):
    ann, bob, cat = people
    label_set = make_label_set("Pairs", overlap=2)
    names = labels(label_set)
    agreed, disputed = items_of(label_set, 2)
    annotate(agreed.pk, ann, [names["order"]])
    agreed.refresh_from_db()
    assert (agreed.annotation_count, agreed.complete, agreed.gold_labels) == (1, False, [])
    assert next_item(label_set, ann) == disputed  # she has done the first one
    annotate(agreed.pk, bob, [names["order"]])
    agreed.refresh_from_db()
    assert (agreed.complete, agreed.gold_label_id, agreed.gold_source, agreed.disagreement) == (True, names["order"], "agreement", False)
    annotate(disputed.pk, ann, [names["order"]])
    annotate(disputed.pk, bob, [names["refund"]])
    disputed.refresh_from_db()
    assert (disputed.complete, disputed.disagreement, disputed.gold_labels) == (True, True, [])
    assert next_item(label_set, cat) is None
    resolve(disputed.pk, cat, [names["refund"]])
    disputed.refresh_from_db()
    assert (disputed.gold_label_id, disputed.gold_source, disputed.disagreement) == (names["refund"], "review", False)
    # A reviewer's decision stands when annotators change their minds later.
    annotate(disputed.pk, ann, [names["other"]])
    disputed.refresh_from_db()
    assert disputed.gold_label_id == names["refund"]


def test_single_annotation_is_gold_relabel_replaces_and_undo_reverts(label_set, people):
    ann, _, _ = people
    names = labels(label_set)
    first, second = items_of(label_set, 2)
    assert annotate(first.pk, ann, [names["order"]]).created
    assert not annotate(first.pk, ann, [names["refund"]]).created
    first.refresh_from_db()
    assert first.gold_label_id == names["refund"] and first.annotation_count == 1
    annotate(second.pk, ann, [names["other"]])
    assert undo_last(label_set, ann) == second
    second.refresh_from_db()
    assert (second.complete, second.gold_labels, second.annotation_count) == (False, [], 0)
    assert list(Annotation.objects.values_list("item_id", "label_id")) == [(first.pk, names["refund"])]
    assert next_item(label_set, ann) == second


@pytest.mark.parametrize(
    "given, message",
    [([], "choose at least one label"), (["x"], "labels must be label ids"), ([999999], "unknown label"), ("two", "labels must be")],
)
def test_bad_labels_are_refused(label_set, people, given, message):
    item = items_of(label_set, 1)[0]
    with pytest.raises(LabellingError, match=message):
        annotate(item.pk, people[0], given)
    assert not Annotation.objects.exists()


def test_one_label_only_in_a_single_label_set_and_items_of_another_set(label_set, people):
    names = labels(label_set)
    item = items_of(label_set, 1)[0]
    with pytest.raises(LabellingError, match="exactly one label"):
        annotate(item.pk, people[0], [names["order"], names["refund"]])
    other = make_label_set("Other")
    with pytest.raises(LabellingError, match="not in this label set"):
        annotate(item.pk, people[0], [names["order"]], label_set_id=other.pk)


def test_multi_label_answers_are_compared_as_sets(db, people):
    ann, bob, _ = people
    label_set = make_label_set("Tags", ["red", "blue"], overlap=2, task="multi")
    names = labels(label_set)
    item = items_of(label_set, 1)[0]
    annotate(item.pk, ann, [names["red"], names["blue"]])
    annotate(item.pk, bob, [names["blue"], names["red"]])
    item.refresh_from_db()
    assert item.gold_labels == sorted([names["red"], names["blue"]]) and item.gold_label_id is None


def test_skipped_items_leave_only_that_annotators_queue(label_set, people):
    ann, bob, _ = people
    first, second = items_of(label_set, 2)
    assert next_item(label_set, ann) == first
    skip(first.pk, ann)
    assert next_item(label_set, ann) == second
    assert next_item(label_set, bob) == first


@pytest.mark.django_db(transaction=True)
def test_concurrent_annotators_never_get_the_same_item(require_postgres):
    """Two annotators asking at the same moment, each in its own connection, on PostgreSQL."""
    import threading

    from django.db import connection

    label_set = make_label_set("Race")
    add_items(label_set, [f"text {i}" for i in range(20)], source="test")
    users = [UserFactory(username=f"racer{i}") for i in range(4)]
    barrier = threading.Barrier(len(users))
    got: dict[str, list[int]] = {}

    def work(user):
        try:
            barrier.wait()
            got[user.username] = [next_item(label_set, user).pk]
            barrier.wait()
            got[user.username].append(next_item(label_set, user).pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    firsts = [ids[0] for ids in got.values()]
    assert len(set(firsts)) == 4
    assert all(ids[0] == ids[1] for ids in got.values())  # the lease keeps each one's item with them
    assert labelling.LEASE_SECONDS >= 60
