"""Product questions: retrieval over product titles and descriptions and over staff FAQ entries.

Products: the shop's own search (PostgreSQL full text through the adapter) for the catalogue words of
the message, then the live `content` model's all-MiniLM-L6-v2 product embeddings for the whole message
(semantic matches the words miss), both with the price and stock filters from the entities. FAQ
entries are embedded with the same encoder, once per edit; one that matches closely enough is answered
before the products.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ai import registry
from ai.adapter import ProductInfo
from ai.conf import ai_settings
from ai.device import torch_threads
from ai.models import FaqEntry

from .entities import Entities

CANDIDATES = 50
FAQ_MIN_SIMILARITY = 0.55
PRODUCT_MIN_SIMILARITY = 0.25
QUERY_MAX_LENGTH = 64  # tokens of a message the query embedding reads
QUERY_TORCH_THREADS = 1  # one short message: one thread (see ai.chat.understanding)


def embed(texts: list[str]) -> torch.Tensor:
    from ai.recs.algorithms.content import embed_texts

    return embed_texts(texts, device="cpu", batch_size=32, max_length=QUERY_MAX_LENGTH)


def query_vector(text: str, sentence_vector: Callable[[int], torch.Tensor | None] | None = None) -> torch.Tensor:
    """The message's frozen MiniLM sentence embedding: finished from the layers the intent model already
    ran when it can share them (`sentence_vector`, see ServedIntentModel.analyse), else encoded here."""
    with torch_threads(QUERY_TORCH_THREADS):
        vector = sentence_vector(QUERY_MAX_LENGTH) if sentence_vector is not None else None
        return vector if vector is not None else embed([text])[0]


@dataclass
class RetrievalResult:
    products: list[ProductInfo] = field(default_factory=list)
    faq_answer: str = ""
    faq_question: str = ""


class FaqIndex:
    """Embeddings of the active FAQ entries, rebuilt when an entry changes."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._entries: list[tuple[str, str]] = []
        self._vectors = torch.zeros((0, 384))
        self._lock = threading.Lock()

    def _current_key(self) -> tuple:
        entries = FaqEntry.objects.filter(active=True)
        return tuple(entries.order_by("pk").values_list("pk", "updated_at"))

    def best(self, query_vector: torch.Tensor) -> tuple[str, str, float]:
        key = self._current_key()
        with self._lock:
            if key != self._key:
                entries = list(FaqEntry.objects.filter(active=True).order_by("pk").values_list("question", "answer"))
                self._vectors = embed([f"{q} {a}" for q, a in entries]) if entries else torch.zeros((0, 384))
                self._entries, self._key = entries, key
            if not self._entries:
                return "", "", 0.0
            sims = self._vectors @ query_vector
            best = int(torch.argmax(sims))
            question, answer = self._entries[best]
            return question, answer, float(sims[best])


faq_index = FaqIndex()


def _passes(product: ProductInfo, entities: Entities) -> bool:
    if not product.active or not product.in_stock:
        return False
    if entities.max_price is not None and product.price > entities.max_price:
        return False
    return entities.min_price is None or product.price >= entities.min_price


def _semantic_product_ids(query_vector: torch.Tensor) -> list[int]:
    served = registry.live_model("content")
    if served is None:
        return []
    embeddings = served.algorithm.embeddings
    if embeddings.numel() == 0:
        return []
    sims = embeddings @ query_vector
    top = torch.topk(sims, min(CANDIDATES, len(sims)))
    keys = served.item_keys
    return [int(keys[i]) for i, score in zip(top.indices.tolist(), top.values.tolist(), strict=True) if score >= PRODUCT_MIN_SIMILARITY]


def search(
    text: str, entities: Entities, *, limit: int = 3, sentence_vector: Callable[[int], torch.Tensor | None] | None = None
) -> RetrievalResult:
    """Products (in stock, within the price filter) and the best FAQ answer for a product question."""
    adapter = ai_settings.adapter()
    query = query_vector(text, sentence_vector)
    products: list[ProductInfo] = []
    if entities.product_terms:
        products = adapter.search_products(
            " ".join(entities.product_terms), max_price=entities.max_price, min_price=entities.min_price,
            in_stock_only=True, limit=limit,
        )
    if len(products) < limit:
        ids = [pid for pid in _semantic_product_ids(query) if pid not in {p.id for p in products}]
        found = adapter.get_products(ids)
        for pid in ids:
            product = found.get(pid)
            if product is not None and _passes(product, entities):
                products.append(product)
                if len(products) >= limit:
                    break
    question, answer, faq_similarity = faq_index.best(query)
    result = RetrievalResult(products=products[:limit])
    if answer and faq_similarity >= FAQ_MIN_SIMILARITY:
        result.faq_answer, result.faq_question = answer, question
    return result


def product_card(product: ProductInfo) -> dict:
    return {
        "id": product.id,
        "title": product.title,
        "price": f"{product.price:.2f}",
        "url": product.url,
        "image_url": product.image_url,
    }
