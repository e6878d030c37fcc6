"""Adding items to label sets: the entry point other `ai` code calls, and the shop's products.

    from ai.annotation.services import add_items
    add_items(label_set, ["where is my order?"], source="chat", metadata=[{"conversation": 7}])

Texts are validated (empty or over MAX_TEXT_CHARS raise ValueError before anything is stored);
a text already in the set is skipped and counted, never stored twice.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from ai.models import Item, LabelSet
from ai.models.annotation import MAX_TEXT_CHARS

from . import counters
from .locks import lock_label_set

BATCH_SIZE = 2000


class InvalidText(ValueError):
    """A text that cannot become an item (empty, too long, not text)."""


@dataclass
class AddResult:
    created: list[Item] = field(default_factory=list)
    duplicates: int = 0

    @property
    def created_count(self) -> int:
        return len(self.created)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def clean_text(text: Any) -> str:
    """The text as stored (surrounding whitespace removed), or InvalidText with the reason."""
    if not isinstance(text, str):
        raise InvalidText(f"text must be a string, not {type(text).__name__}")
    text = text.strip()
    if not text:
        raise InvalidText("text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidText(f"text is {len(text)} characters long (at most {MAX_TEXT_CHARS})")
    if "\x00" in text:
        raise InvalidText("text contains a NUL character")
    return text


def existing_hashes(label_set: LabelSet, hashes: Iterable[str]) -> set[str]:
    wanted = list(set(hashes))
    found: set[str] = set()
    for start in range(0, len(wanted), BATCH_SIZE):
        chunk = wanted[start : start + BATCH_SIZE]
        found.update(Item.objects.filter(label_set=label_set, text_hash__in=chunk).values_list("text_hash", flat=True))
    return found


def add_items(
    label_set: LabelSet,
    texts: Sequence[str],
    *,
    source: str,
    metadata: Sequence[dict] | dict | None = None,
    source_refs: Sequence[str] | None = None,
    split: str = "",
) -> AddResult:
    """Add texts to the set as items to label; returns the created items and how many were duplicates.

    `metadata` is one dict for every item or one per text; `source_refs` one string per text
    (e.g. "chat:message:42"). All-or-nothing: any invalid text raises InvalidText and stores nothing.
    """
    if isinstance(texts, str):
        raise InvalidText("give a list of texts, not one string")
    if split not in Item.Split.values:
        raise InvalidText(f"unknown split {split!r} (train, val, test or empty)")
    metadatas = _per_text(metadata, len(texts), "metadata", default={})
    refs = _per_text(source_refs, len(texts), "source_refs", default="")
    cleaned = []
    for index, text in enumerate(texts):
        try:
            cleaned.append(clean_text(text))
        except InvalidText as exc:
            raise InvalidText(f"text {index + 1}: {exc}") from None
        if not isinstance(metadatas[index], dict):
            raise InvalidText(f"text {index + 1}: metadata must be an object")
    with transaction.atomic():
        lock_label_set(label_set.pk)
        hashes = [text_hash(text) for text in cleaned]
        seen = existing_hashes(label_set, hashes)
        new_items = []
        duplicates = 0
        for text, digest, meta, ref in zip(cleaned, hashes, metadatas, refs, strict=True):
            if digest in seen:
                duplicates += 1
                continue
            seen.add(digest)
            new_items.append(
                Item(
                    label_set=label_set, text=text, text_hash=digest, metadata=meta,
                    source=source[:32], source_ref=str(ref)[:200], split=split,
                )
            )
        created = Item.objects.bulk_create(new_items, batch_size=BATCH_SIZE)
        counters.items_added(label_set.pk, len(created))
    return AddResult(created=created, duplicates=duplicates)


def _per_text(value, count: int, name: str, *, default):
    if value is None:
        return [default] * count
    if isinstance(value, dict):
        return [dict(value) for _ in range(count)]
    value = list(value)
    if len(value) != count:
        raise InvalidText(f"{name}: {len(value)} values for {count} texts")
    return value


PRODUCT_FIELDS = ("title", "description", "title_description")


def add_product_items(label_set: LabelSet, *, text_field: str = "title", active_only: bool = True) -> AddResult:
    """The shop's products (through the adapter) as items: their title, description or both."""
    from ai.conf import ai_settings

    if text_field not in PRODUCT_FIELDS:
        raise InvalidText(f"unknown product field {text_field!r} ({', '.join(PRODUCT_FIELDS)})")
    texts, metadata, refs = [], [], []
    for product in ai_settings.adapter().iter_products(active_only=active_only):
        if text_field == "title":
            text = product.title
        elif text_field == "description":
            text = product.description
        else:
            text = f"{product.title}\n{product.description}"
        text = (text or "").strip()[:MAX_TEXT_CHARS]
        if not text:
            continue
        texts.append(text)
        metadata.append({"product_id": product.id, "category": product.category_name})
        refs.append(f"product:{product.id}")
    return add_items(label_set, texts, source="shop", metadata=metadata, source_refs=refs)
