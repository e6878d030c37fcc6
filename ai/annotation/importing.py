"""Importing items (and their labels) from CSV or JSONL: all-or-nothing, with per-row errors.

CSV: a header with `text` and optionally `label` and `split`; any other column is kept as metadata.
A multi-label set takes several labels in one cell separated by `|`. JSONL: one object per line with
`text`, optionally `label` (a name or a list of names), `split` and `metadata`; other keys are metadata.
Labels from a file are stored as annotations of the "import" annotator and become the gold labels.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from ai.models import Annotation, Item, Label, LabelSet

from . import counters
from .bulk import insert_rows
from .locks import lock_label_set
from .services import InvalidText, clean_text, existing_hashes, text_hash

FORMATS = ("csv", "jsonl")
MAX_ERRORS_SHOWN = 50
RESERVED = ("text", "label", "split")


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return f"{where}, {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"


class ImportFailed(Exception):
    """The file was rejected; nothing was stored. `errors` holds the first MAX_ERRORS_SHOWN problems."""

    def __init__(self, errors: list[RowError], total: int | None = None) -> None:
        self.errors = errors[:MAX_ERRORS_SHOWN]
        self.total = total if total is not None else len(errors)
        more = f" (and {self.total - len(self.errors)} more)" if self.total > len(self.errors) else ""
        super().__init__(f"{self.total} error(s), nothing imported: " + "; ".join(map(str, self.errors[:5])) + more)


@dataclass
class ImportResult:
    created: int = 0
    duplicates: int = 0
    labelled: int = 0


@dataclass
class _Row:
    row: int
    text: str
    labels: list[int]
    split: str
    metadata: dict[str, Any] = field(default_factory=dict)


def guess_format(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".jsonl") or name.endswith(".ndjson"):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    raise ImportFailed([RowError(0, "", f"cannot tell the format of {filename!r}: name it .csv or .jsonl")])


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed(
            [RowError(line, "", f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save the file as UTF-8")]
        ) from None


class _RowChecker:
    """Validates one row's fields against the set; collects errors instead of stopping at the first."""

    def __init__(self, label_set: LabelSet) -> None:
        self.label_set = label_set
        self.labels = {label.name: label.pk for label in Label.objects.filter(label_set=label_set)}
        self.errors: list[RowError] = []

    def row(self, number: int, text: Any, label: Any, split: Any, metadata: dict[str, Any]) -> _Row | None:
        before = len(self.errors)
        try:
            text = clean_text(text if text is not None else "")
        except InvalidText as exc:
            self.errors.append(RowError(number, "text", str(exc)))
        label_ids = self._labels(number, label)
        split = (split or "").strip() if isinstance(split, str) else split
        if split is None:
            split = ""
        if split not in Item.Split.values:
            self.errors.append(RowError(number, "split", f"unknown split {split!r} (train, val, test or empty)"))
        if len(self.errors) > before:
            return None
        return _Row(number, text, label_ids, split, metadata)

    def _labels(self, number: int, value: Any) -> list[int]:
        if value is None or value == "" or value == []:
            return []
        if isinstance(value, str):
            names = [part.strip() for part in value.split("|")] if self.label_set.task == LabelSet.Task.MULTI else [value.strip()]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            names = [v.strip() for v in value]
        else:
            self.errors.append(RowError(number, "label", "label must be a name or a list of names"))
            return []
        if len(names) > 1 and self.label_set.task == LabelSet.Task.SINGLE:
            self.errors.append(RowError(number, "label", f"{len(names)} labels for a single-label set"))
            return []
        unknown = [name for name in names if name not in self.labels]
        if unknown:
            known = ", ".join(sorted(self.labels)) or "none yet"
            self.errors.append(RowError(number, "label", f"unknown label {unknown[0]!r} (known: {known})"))
            return []
        return sorted({self.labels[name] for name in names})


def parse_csv(text: str, checker: _RowChecker) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFailed([RowError(0, "", "the file is empty")]) from None
    except csv.Error as exc:
        raise ImportFailed([RowError(1, "", f"unreadable CSV header: {exc}")]) from None
    header = [name.strip() for name in header]
    if "text" not in header:
        raise ImportFailed([RowError(1, "text", f"no 'text' column (columns: {', '.join(header) or 'none'})")])
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise ImportFailed([RowError(1, duplicated[0], "column appears twice")])
    rows = []
    try:
        for values in reader:
            number = reader.line_num
            if not values or values == [""]:
                continue
            if len(values) != len(header):
                checker.errors.append(RowError(number, "", f"{len(values)} values for {len(header)} columns"))
                continue
            record = dict(zip(header, values, strict=True))
            metadata = {key: value for key, value in record.items() if key not in RESERVED}
            row = checker.row(number, record["text"], record.get("label"), record.get("split"), metadata)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        checker.errors.append(RowError(reader.line_num, "", f"unreadable CSV: {exc}"))
    return rows


def parse_jsonl(text: str, checker: _RowChecker) -> list[_Row]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            checker.errors.append(RowError(number, "", f"not JSON: {exc.msg} (column {exc.colno})"))
            continue
        if not isinstance(record, dict):
            checker.errors.append(RowError(number, "", "each line must be a JSON object"))
            continue
        if "text" not in record:
            checker.errors.append(RowError(number, "text", "missing"))
            continue
        metadata = record.get("metadata") or {}
        if not isinstance(metadata, dict):
            checker.errors.append(RowError(number, "metadata", "must be an object"))
            continue
        metadata = {**{k: v for k, v in record.items() if k not in (*RESERVED, "metadata")}, **metadata}
        row = checker.row(number, record["text"], record.get("label"), record.get("split"), metadata)
        if row is not None:
            rows.append(row)
    return rows


def import_items(label_set: LabelSet, data: bytes, fmt: str, *, source: str = "import") -> ImportResult:
    """Validate the whole file, then store every new item (and its labels) in one transaction.

    Raises ImportFailed with per-row errors and stores nothing when any row is bad. A text already in
    the set, or repeated in the file, is skipped and counted as a duplicate.
    """
    if fmt not in FORMATS:
        raise ImportFailed([RowError(0, "", f"unknown format {fmt!r} (csv or jsonl)")])
    text = decode(data)
    checker = _RowChecker(label_set)
    rows = parse_csv(text, checker) if fmt == "csv" else parse_jsonl(text, checker)
    if checker.errors:
        raise ImportFailed(checker.errors, total=len(checker.errors))
    if not rows:
        raise ImportFailed([RowError(0, "", "no rows to import")])
    return _store(label_set, rows, source)


ITEM_FIELDS = (
    "label_set", "text", "text_hash", "metadata", "source", "source_ref", "split", "created_at", "annotation_count",
    "complete", "disagreement", "gold_labels", "gold_label", "gold_source", "uncertainty",
)
ANNOTATION_FIELDS = ("item", "label", "origin", "accepted_suggestion", "created_at")


def _store(label_set: LabelSet, rows: list[_Row], source: str) -> ImportResult:
    """One transaction: the set locked, duplicates found by hash (one indexed lookup per batch), then the
    new items and their import annotations inserted in bulk (COPY on PostgreSQL), and the set's counters."""
    result = ImportResult()
    single = label_set.task == LabelSet.Task.SINGLE
    now = timezone.now()
    with transaction.atomic():
        lock_label_set(label_set.pk)
        hashes = [text_hash(row.text) for row in rows]
        seen = existing_hashes(label_set, hashes)
        item_rows: list[tuple] = []
        new_rows: list[_Row] = []
        for row, digest in zip(rows, hashes, strict=True):
            if digest in seen:
                result.duplicates += 1
                continue
            seen.add(digest)
            labelled = bool(row.labels)
            item_rows.append((
                label_set.pk, row.text, digest, row.metadata, source[:32], f"{source}:row:{row.row}"[:200], row.split, now,
                0, labelled, False, row.labels, row.labels[0] if labelled and single else None,
                Item.GoldSource.IMPORT if labelled else Item.GoldSource.NONE, 0.0,
            ))
            new_rows.append(row)
        item_ids = insert_rows(Item, [_column(Item, name) for name in ITEM_FIELDS], item_rows)
        annotation_rows = [
            (item_id, label_id, Annotation.Origin.IMPORT, False, now)
            for item_id, row in zip(item_ids, new_rows, strict=True)
            for label_id in row.labels
        ]
        insert_rows(Annotation, [_column(Annotation, name) for name in ANNOTATION_FIELDS], annotation_rows)
        result.created = len(item_ids)
        result.labelled = sum(1 for row in new_rows if row.labels)
        counters.items_added(label_set.pk, result.created, complete=result.labelled)
    return result


def _column(model, name: str) -> str:
    """The attribute a value is given by: `label_set_id` for a foreign key, else the field's name."""
    field = model._meta.get_field(name)
    return field.attname
