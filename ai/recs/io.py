"""Reading interaction files (the shared `interactions` format) into `Interactions`.

Format: CSV or .csv.gz with a header and the columns `user_id,item_id,timestamp`; the timestamp is a
number (seconds, or simply the position in the user's history) or an ISO date-time. An optional items
file (`item_id,text`) gives product text for the content model.
"""
from __future__ import annotations

import csv
import gzip
import io
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ai.recs.base import Interactions

REQUIRED_COLUMNS = ("user_id", "item_id", "timestamp")


class InteractionsFileError(ValueError):
    """The file is missing or not in the interactions format; the message says what to fix."""


def _open_text(path: Path) -> io.TextIOBase:
    if not path.exists():
        raise InteractionsFileError(f"{path}: no such file")
    if path.is_dir():
        raise InteractionsFileError(f"{path}: is a directory, not a CSV file")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def parse_timestamp(value: str) -> float:
    """A number, or an ISO 8601 date/date-time (naive ones are taken as UTC), as float seconds."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if math.isfinite(number):
            return number
        raise ValueError(f"timestamp {value!r} is not a finite number")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"timestamp {value!r} is neither a number nor an ISO date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _read_rows(path: Path, columns: tuple[str, ...]):
    """Yield (line number, tuple of the wanted columns' values); readable errors for bad files."""
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle)
            try:
                header = next(reader)
            except StopIteration:
                raise InteractionsFileError(f"{path}: the file is empty") from None
            header = [name.strip().lstrip("\ufeff") for name in header]
            missing = [c for c in columns if c not in header]
            if missing:
                raise InteractionsFileError(
                    f"{path}: missing column(s) {', '.join(missing)}; expected a header with "
                    f"{','.join(columns)} (found {','.join(header) or 'nothing'})"
                )
            positions = [header.index(c) for c in columns]
            width = max(positions) + 1
            for line, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) < width:
                    raise InteractionsFileError(f"{path}, line {line}: expected {len(header)} columns, got {len(row)}")
                yield line, tuple(row[p] for p in positions)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        if isinstance(exc, FileNotFoundError):
            raise InteractionsFileError(f"{path}: no such file") from None
        raise InteractionsFileError(f"{path}: cannot be read as CSV ({exc})") from None


def read_item_texts(path: str | Path) -> dict[str, str]:
    """`item_id,text` rows as a dict (the content model's product text)."""
    path = Path(path)
    texts: dict[str, str] = {}
    for _, (item, text) in _read_rows(path, ("item_id", "text")):
        texts[item.strip()] = text.strip()
    return texts


def read_interactions(path: str | Path, *, items_path: str | Path | None = None) -> Interactions:
    """Read an interactions file; users and items get dense indices in order of first appearance.

    Rows are sorted by (user, timestamp), ties kept in file order. Duplicated (user, item, timestamp)
    rows are kept: a repeat purchase is a real interaction.
    """
    path = Path(path)
    user_index: dict[str, int] = {}
    item_index: dict[str, int] = {}
    users: list[int] = []
    items: list[int] = []
    stamps: list[float] = []
    for line, (user, item, stamp) in _read_rows(path, REQUIRED_COLUMNS):
        user, item = user.strip(), item.strip()
        if not user or not item:
            raise InteractionsFileError(f"{path}, line {line}: empty user_id or item_id")
        try:
            stamps.append(parse_timestamp(stamp))
        except ValueError as exc:
            raise InteractionsFileError(f"{path}, line {line}: {exc}") from None
        users.append(user_index.setdefault(user, len(user_index)))
        items.append(item_index.setdefault(item, len(item_index)))
    if not users:
        raise InteractionsFileError(f"{path}: no interactions after the header")

    u = np.asarray(users, dtype=np.int64)
    i = np.asarray(items, dtype=np.int64)
    t = np.asarray(stamps, dtype=np.float64)
    order = np.lexsort((np.arange(len(u)), t, u))
    item_keys = list(item_index)
    texts = None
    if items_path is not None:
        by_key = read_item_texts(items_path)
        texts = [by_key.get(key, "") for key in item_keys]
        if not any(texts):
            raise InteractionsFileError(f"{items_path}: no text for any item of {path}")
    return Interactions(
        users=u[order],
        items=i[order],
        timestamps=t[order],
        n_users=len(user_index),
        n_items=len(item_index),
        item_keys=item_keys,
        user_keys=list(user_index),
        item_texts=texts,
    )
