"""The models a request is served by: the live version of each kind, or for the visitors in the A/B
candidate arm the newest candidate; and how a model's item indices map onto the catalogue."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from ai.conf import ai_settings
from ai.models import ModelVersion

from . import blend, caches, rules

logger = logging.getLogger(__name__)

_candidate_versions = caches.ttl_from(64, lambda: float(ai_settings.REGISTRY_POLL_S))
_candidate_models = caches.lru(8)
_mappings = caches.lru(32)
_NONE = object()  # cached "no candidate" / "candidate failed to load"


@dataclass
class Source:
    """A scoring model as serving sees it: its item keys and what it can score."""

    kind: str
    model: Any  # ai.kinds.recs.ServedRecommender-like: item_keys, score_history, similar_items
    version_id: int | None


def ab_arm(visitor_key: str | None) -> str:
    """"candidate" for a deterministic share AI_AB_CANDIDATE_SHARE of visitors, else "live"."""
    share = float(ai_settings.AB_CANDIDATE_SHARE or 0.0)
    if not visitor_key or share <= 0:
        return "live"
    digest = hashlib.sha256(f"ai-ab:{visitor_key}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") / 2**64
    return "candidate" if bucket < share else "live"


def _newest_candidate(kind: str) -> Any:
    rows = list(
        ModelVersion.objects.filter(kind=kind, status__in=[ModelVersion.Status.LIVE, ModelVersion.Status.CANDIDATE])
        .order_by("-version")
        .only("id", "kind", "version", "status", "artifact_dir", "checksums", "config")[:20]
    )
    live = next((v for v in rows if v.status == ModelVersion.Status.LIVE), None)
    if live is not None and rows and rows[0].status == ModelVersion.Status.CANDIDATE:
        return rows[0]
    return _NONE


def candidate_version(kind: str) -> ModelVersion | None:
    """The newest candidate of `kind` newer than the live version: the A/B arm's model.
    Re-read at most every AI_REGISTRY_POLL_S seconds."""
    found = _candidate_versions.get_or_compute(kind, lambda: _newest_candidate(kind))
    return None if found is _NONE else found


def _load_candidate(version: ModelVersion) -> Any:
    from ai import registry

    try:
        return registry.load_version(version)
    except Exception:  # a broken candidate must not break the page
        logger.exception("A/B candidate %s could not be loaded; serving the live version", version)
        return _NONE  # remembered: not retried on every request


def source(kind: str, arm: str) -> Source | None:
    """The model serving `kind` for this arm: the live version, or for the candidate arm the newest
    candidate (beside a live version; a candidate that fails to load falls back to the live one)."""
    from ai import registry

    loaded = registry.live_loaded(kind)
    if loaded is None:
        return None
    if arm == "candidate":
        candidate = candidate_version(kind)
        if candidate is not None:
            model = _candidate_models.get_or_compute(candidate.pk, lambda: _load_candidate(candidate))
            if model is not _NONE:
                return Source(kind, model, candidate.pk)
    return Source(kind, loaded.model, loaded.version_id)


def mapping(source: Source, catalogue: rules.Catalogue) -> blend.Mapping:
    """How the source's item indices land in the catalogue (once per model and catalogue)."""
    key = (id(source.model), catalogue.token)
    return _mappings.get_or_compute(
        key, lambda: blend.mapping(catalogue.ids, np.asarray(source.model.item_keys, dtype=np.int64))
    )


def history_scores(source: Source, seeds: list[int], catalogue: rules.Catalogue) -> np.ndarray | None:
    """The source's scores for a shopper whose history is `seeds`, normalised, in catalogue space."""
    scores = source.model.score_history(seeds) if seeds else None
    if scores is None:
        return None
    mapped = mapping(source, catalogue).dense(scores)
    return mapped if mapped.any() else None


def histories_scores(source: Source, histories: list[list[int]], catalogue: rules.Catalogue) -> list[np.ndarray | None]:
    """`history_scores` for several histories of one shopper, scored in one call where the model can."""
    many = getattr(source.model, "score_histories", None)
    if many is None:
        return [history_scores(source, seeds, catalogue) for seeds in histories]
    out: list[np.ndarray | None] = []
    for scores in many([list(seeds) for seeds in histories]):
        mapped = None if scores is None else mapping(source, catalogue).dense(scores)
        out.append(mapped if mapped is not None and mapped.any() else None)
    return out


def neighbour_scores(source: Source, product_id: int, k: int, catalogue: rules.Catalogue) -> np.ndarray | None:
    """The source's k nearest products to `product_id`, scaled by the best, in catalogue space."""
    found = source.model.similar_items(product_id, k)
    if found is None:
        return None
    mapped = mapping(source, catalogue).sparse(*found)
    return mapped if mapped.any() else None
