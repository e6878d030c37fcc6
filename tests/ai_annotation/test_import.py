from __future__ import annotations

import json

import pytest

from ai.annotation.importing import ImportFailed, RowError, import_items
from ai.annotation.services import InvalidText, add_items
from ai.models import Annotation, Item
from ai.models.annotation import MAX_TEXT_CHARS

from .conftest import make_label_set

pytestmark = pytest.mark.django_db


def test_add_items_stores_texts_skips_duplicates_and_keeps_metadata(label_set):
    result = add_items(label_set, ["  where is my order? ", "refund please"], source="chat", metadata={"conversation": 7})
    assert result.created_count == 2 and result.duplicates == 0
    again = add_items(label_set, ["where is my order?", "new one", "new one"], source="chat", source_refs=["a", "b", "c"])
    assert again.created_count == 1 and again.duplicates == 2
    item = Item.objects.get(text="where is my order?")
    assert item.metadata == {"conversation": 7}
    assert item.source == "chat" and not item.complete
    assert Item.objects.filter(label_set=label_set).count() == 3


@pytest.mark.parametrize(
    "texts, message",
    [
        (["ok", "   "], "text 2: text is empty"),
        (["x" * (MAX_TEXT_CHARS + 1)], f"text 1: text is {MAX_TEXT_CHARS + 1} characters long"),
        ([None], "text 1: text must be a string"),
        ("one string", "give a list of texts"),
    ],
)
def test_add_items_rejects_bad_texts_and_stores_nothing(label_set, texts, message):
    with pytest.raises(InvalidText, match=message):
        add_items(label_set, texts, source="chat")
    assert not Item.objects.exists()


def test_csv_import_stores_items_labels_as_import_annotations_and_metadata(label_set):
    data = (
        b"text,label,split,channel\n"
        b"where is my parcel,order,train,email\n"
        b"money back,refund,test,chat\n"
        b"just browsing,,,web\n"
        b"where is my parcel,order,train,email\n"
    )
    result = import_items(label_set, data, "csv")
    assert (result.created, result.duplicates, result.labelled) == (3, 1, 2)
    parcel = Item.objects.get(text="where is my parcel")
    assert parcel.split == "train" and parcel.metadata == {"channel": "email"}
    assert parcel.complete and parcel.gold_source == "import" and parcel.gold_label.name == "order"
    assert list(parcel.annotations.values_list("origin", "annotator", "label__name")) == [("import", None, "order")]
    browsing = Item.objects.get(text="just browsing")
    assert not browsing.complete and browsing.gold_labels == [] and browsing.gold_label is None
    assert Annotation.objects.count() == 2


def test_jsonl_import_multi_label(db):
    label_set = make_label_set("Tags", ["red", "blue", "green"], task="multi")
    lines = [
        {"text": "a red and blue lamp", "label": ["red", "blue"], "metadata": {"sku": "L1"}},
        {"text": "green", "label": "green", "source_id": 9},
        {"text": "nothing"},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    result = import_items(label_set, data, "jsonl")
    assert (result.created, result.labelled) == (3, 2)
    lamp = Item.objects.get(text="a red and blue lamp")
    names = {label.name: label.pk for label in label_set.labels.all()}
    assert lamp.gold_labels == sorted([names["red"], names["blue"]]) and lamp.gold_label is None
    assert lamp.metadata == {"sku": "L1"}
    assert Item.objects.get(text="green").metadata == {"source_id": 9}


def test_csv_errors_are_reported_per_row_and_nothing_is_stored(label_set):
    data = (
        b"text,label,split\n"
        b"fine,order,train\n"
        b",order,train\n"
        b"ok,nonsense,\n"
        b"also ok,refund,holdout\n"
        b"too,many,values,here\n"
    )
    with pytest.raises(ImportFailed) as caught:
        import_items(label_set, data, "csv")
    assert caught.value.errors == [
        RowError(3, "text", "text is empty"),
        RowError(4, "label", "unknown label 'nonsense' (known: order, other, refund)"),
        RowError(5, "split", "unknown split 'holdout' (train, val, test or empty)"),
        RowError(6, "", "4 values for 3 columns"),
    ]
    assert not Item.objects.exists() and not Annotation.objects.exists()


@pytest.mark.parametrize(
    "data, fmt, expected",
    [
        (b"body,label\nhello,order\n", "csv", RowError(1, "text", "no 'text' column (columns: body, label)")),
        (b"", "csv", RowError(0, "", "the file is empty")),
        (b"text\nok\ncaf\xe9\n", "csv", RowError(3, "", "not UTF-8 text (byte 0xe9 at offset 11); save the file as UTF-8")),
        (b'{"text": "a"}\n[1]\n', "jsonl", RowError(2, "", "each line must be a JSON object")),
        (b'{"text": "a"\n', "jsonl", RowError(1, "", "not JSON: Expecting ',' delimiter (column 13)")),
        (b'{"label": "order"}\n', "jsonl", RowError(1, "text", "missing")),
        (b"text\n", "csv", RowError(0, "", "no rows to import")),
        (b"text,label\nx,order|refund\n", "csv", RowError(2, "label", "unknown label 'order|refund' (known: order, other, refund)")),
    ],
)
def test_bad_files_get_a_clear_error(label_set, data, fmt, expected):
    with pytest.raises(ImportFailed) as caught:
        import_items(label_set, data, fmt)
    assert caught.value.errors == [expected]
    assert not Item.objects.exists()


def test_roles_exist_with_their_permissions():
    from django.contrib.auth.models import Group

    def codenames(role):
        return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))

    assert {"annotate_labelset", "view_labelset"} <= codenames("annotator")
    assert "review_labelset" not in codenames("annotator")
    assert "review_labelset" in codenames("reviewer") and "import_labelset" not in codenames("reviewer")
    assert {"import_labelset", "export_labelset", "train_labelset", "add_labelset"} <= codenames("manager")


@pytest.mark.django_db(transaction=True)
def test_roles_come_back_after_a_flush_and_an_edited_group_is_left_alone():
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    Group.objects.get(name="annotator").permissions.clear()
    call_command("flush", "--noinput", verbosity=0)
    assert set(Group.objects.values_list("name", flat=True)) >= {"annotator", "reviewer", "manager"}
    assert Group.objects.get(name="annotator").permissions.count() == 3
    Group.objects.get(name="annotator").permissions.clear()
    call_command("migrate", verbosity=0)  # an existing group keeps what the shop's staff made of it
    assert Group.objects.get(name="annotator").permissions.count() == 0
