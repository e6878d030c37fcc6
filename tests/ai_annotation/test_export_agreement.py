"""Export/import round trip, the ai_labels command, and agreement figures checked by hand."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from ai.annotation.agreement import agreement_report, answers_by_item, cohen_pairs, fleiss, per_label
from ai.annotation.exporting import EmptyExport, export_labels
from ai.annotation.importing import import_items
from ai.annotation.labelling import annotate
from ai.annotation.services import add_items
from ai.models import Item
from tests.factories import UserFactory

from .conftest import make_label_set

pytestmark = pytest.mark.django_db

SOURCE = (
    b"text,label,split,channel\n"
    b"where is my parcel,order,train,email\n"
    b"\"money back, please\",refund,test,chat\n"
    b"hello,other,,web\n"
    b"unlabelled one,,,web\n"
)


def snapshot(label_set):
    return sorted(
        (item.text, tuple(label_set.labels.get(pk=pk).name for pk in item.gold_labels), item.split, tuple(sorted(item.metadata.items())))
        for item in Item.objects.filter(label_set=label_set).exclude(gold_source="")
    )


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_then_import_gives_the_same_gold_data(label_set, fmt):
    import_items(label_set, SOURCE, "csv")
    exported = export_labels(label_set, fmt)
    copy = make_label_set("Copy")
    result = import_items(copy, exported.encode(), fmt)
    assert (result.created, result.labelled) == (3, 3)
    assert snapshot(copy) == snapshot(label_set)


def test_export_of_all_annotations_and_of_an_empty_set(label_set):
    with pytest.raises(EmptyExport, match="Intents has no gold labels to export yet"):
        export_labels(label_set, "csv")
    add_items(label_set, ["a text"], source="test")
    annotate(Item.objects.get().pk, UserFactory(username="ann"), [label_set.labels.get(name="order").pk])
    rows = [json.loads(line) for line in export_labels(label_set, "jsonl", all_annotations=True).splitlines()]
    assert [(r["text"], r["label"], r["annotator"], r["origin"]) for r in rows] == [("a text", "order", "ann", "human")]


def test_ai_labels_command_round_trip_and_errors(label_set, tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(SOURCE)
    out = io.StringIO()
    call_command("ai_labels", "import", "intents", str(source), stdout=out)
    assert out.getvalue().strip() == "Imported 4 item(s) (3 with labels); skipped 0 duplicate(s)."
    target = tmp_path / "gold.jsonl"
    call_command("ai_labels", "export", "intents", "--format", "jsonl", "--output", str(target), stderr=io.StringIO())
    assert len(target.read_text().splitlines()) == 3
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"text,label\nok,nope\n")
    with pytest.raises(CommandError, match=r"Nothing imported: 1 problem\(s\)\n  row 2, label: unknown label 'nope'"):
        call_command("ai_labels", "import", "intents", str(bad))
    with pytest.raises(CommandError, match="No label set 'missing' \\(known: intents\\)"):
        call_command("ai_labels", "export", "missing")
    empty = make_label_set("Empty")
    with pytest.raises(CommandError, match="Empty has no gold labels"):
        call_command("ai_labels", "export", empty.slug)


def test_cohen_kappa_by_hand():
    # Two annotators, 10 items, labels A/B. Both A on 4, both B on 3, ann A & bob B on 2, ann B & bob A on 1.
    # p_o = 7/10; ann: A 6, B 4; bob: A 5, B 5; p_e = .6*.5 + .4*.5 = .5; kappa = (.7 - .5) / .5 = 0.4
    pairs = [("A", "A")] * 4 + [("B", "B")] * 3 + [("A", "B")] * 2 + [("B", "A")]
    answers = {i: {1: (a,), 2: (b,)} for i, (a, b) in enumerate(pairs)}
    [pair] = cohen_pairs(answers)
    assert pair["kappa"] == pytest.approx(0.4) and pair["observed"] == pytest.approx(0.7) and pair["items"] == 10


def test_fleiss_kappa_and_per_label_agreement_by_hand():
    # 4 items, 3 raters, categories X/Y: counts (3,0) (0,3) (2,1) (1,2).
    # P_i = (sum n_ij^2 - 3) / 6 = 1, 1, 1/3, 1/3 -> P_bar = 2/3; p_X = p_Y = 1/2 -> P_e = 1/2; kappa = (2/3 - 1/2) / (1/2) = 1/3
    rows = [("X", "X", "X"), ("Y", "Y", "Y"), ("X", "X", "Y"), ("X", "Y", "Y")]
    answers = {i: {r: (label,) for r, label in enumerate(row)} for i, row in enumerate(rows)}
    kappa, used = fleiss(answers, 3)
    assert kappa == pytest.approx(1 / 3) and used == 4
    # Specific agreement for X: sum n(n-1) = 6 + 0 + 2 + 0 = 8 over sum n(3-1) = 6 + 0 + 4 + 2 = 12.
    assert per_label(answers) == pytest.approx({"X": 8 / 12, "Y": 8 / 12})


def test_agreement_report_from_stored_annotations(db):
    label_set = make_label_set("Pairs", ["yes", "no"], overlap=2)
    yes, no = (label_set.labels.get(name=n).pk for n in ("yes", "no"))
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    add_items(label_set, [f"t{i}" for i in range(4)], source="test")
    for item, (a, b) in zip(Item.objects.order_by("pk"), [(yes, yes), (no, no), (yes, no), (no, no)], strict=True):
        annotate(item.pk, ann, [a])
        annotate(item.pk, bob, [b])
    report = agreement_report(label_set)
    # p_o = 3/4; ann yes 2/4, bob yes 1/4; p_e = .5*.25 + .5*.75 = .5; kappa = .5
    assert report["pairs"][0]["kappa"] == pytest.approx(0.5)
    assert report["items_with_several"] == 4 and report["fleiss_items"] == 4
    assert set(answers_by_item(label_set)) == set(Item.objects.values_list("pk", flat=True))
