"""Export of a set's gold labels (the format `import_items` reads back) or of every annotation."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from ai.models import Annotation, Item, Label, LabelSet

FORMATS = ("csv", "jsonl")


class EmptyExport(ValueError):
    """Nothing to export (no gold labels, or no annotations)."""


def _label_names(label_set: LabelSet) -> dict[int, str]:
    return dict(Label.objects.filter(label_set=label_set).values_list("pk", "name"))


def gold_rows(label_set: LabelSet) -> Iterator[dict]:
    names = _label_names(label_set)
    items = Item.objects.filter(label_set=label_set).exclude(gold_source="").order_by("pk")
    for text, gold, split, metadata in items.values_list("text", "gold_labels", "split", "metadata").iterator(chunk_size=2000):
        labels = [names[pk] for pk in gold if pk in names]
        yield {"text": text, "labels": labels, "split": split, "metadata": metadata or {}}


def annotation_rows(label_set: LabelSet) -> Iterator[dict]:
    rows = (
        Annotation.objects.filter(item__label_set=label_set)
        .order_by("item_id", "created_at", "pk")
        .values_list("item_id", "item__text", "label__name", "annotator__username", "origin", "accepted_suggestion", "created_at")
    )
    for item_id, text, label, annotator, origin, accepted, created in rows.iterator(chunk_size=2000):
        yield {
            "item_id": item_id, "text": text, "label": label, "annotator": annotator or "", "origin": origin,
            "accepted_suggestion": accepted, "created_at": created.isoformat(),
        }


def export_labels(label_set: LabelSet, fmt: str, *, all_annotations: bool = False) -> str:
    """The export as text. Gold: text,label,split plus metadata columns (labels joined by `|` in CSV)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (csv or jsonl)")
    rows = list(annotation_rows(label_set) if all_annotations else gold_rows(label_set))
    if not rows:
        what = "annotations" if all_annotations else "gold labels"
        raise EmptyExport(f"{label_set.name} has no {what} to export yet")
    if all_annotations:
        return _annotations_text(rows, fmt)
    multi = label_set.task == LabelSet.Task.MULTI
    if fmt == "jsonl":
        lines = []
        for row in rows:
            record = {"text": row["text"], "label": row["labels"] if multi else row["labels"][0], "split": row["split"]}
            if row["metadata"]:
                record["metadata"] = row["metadata"]
            lines.append(json.dumps(record, ensure_ascii=False))
        return "\n".join(lines) + "\n"
    extra = sorted({key for row in rows for key in row["metadata"] if key not in ("text", "label", "split")})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["text", "label", "split", *extra])
    for row in rows:
        values = [row["metadata"].get(key, "") for key in extra]
        writer.writerow([row["text"], "|".join(row["labels"]), row["split"], *[v if isinstance(v, str) else json.dumps(v) for v in values]])
    return out.getvalue()


def _annotations_text(rows: list[dict], fmt: str) -> str:
    if fmt == "jsonl":
        return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
