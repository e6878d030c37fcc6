"""The model registry: versions of each kind, their artifacts, promotion, rollback, and serving.

Artifacts go through Django's storage API (the STORAGES alias AI_ARTIFACT_STORAGE) under
`<AI_ARTIFACT_PREFIX>/<kind>/v<version>/`: weights.safetensors, config.json and metadata.json, with
the sha256 of each kept on the ModelVersion. A serving process loads the live version lazily, checks
the registry again at most every AI_REGISTRY_POLL_S seconds, and verifies the checksums before it
switches: a missing or corrupt artifact never replaces a working model.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import safetensors.torch
import torch
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.utils import timezone

from ai.conf import ai_settings
from ai.kinds import get_kind
from ai.kinds.base import TrainedModel
from ai.models import ModelVersion, TrainingRun

logger = logging.getLogger("ai.registry")

WEIGHTS = "weights.safetensors"
CONFIG = "config.json"
METADATA = "metadata.json"
ARTIFACTS = (WEIGHTS, CONFIG, METADATA)

Status = ModelVersion.Status


class RegistryError(Exception):
    """A registry operation that cannot be done (nothing to roll back to, version not promotable…)."""


class ArtifactError(RegistryError):
    """A version's artifact is missing or does not match its recorded sha256."""


def artifact_storage():
    return storages[ai_settings.ARTIFACT_STORAGE]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, indent=1, sort_keys=True, default=str).encode()


# Registering -------------------------------------------------------------------------------------
def register_version(kind: str, trained: TrainedModel, run: TrainingRun | None = None) -> ModelVersion:
    """Store a trained model as the next candidate version of its kind."""
    kind_obj = get_kind(kind)
    tensors = {name: tensor.detach().to("cpu").contiguous() for name, tensor in trained.tensors.items()}
    weights = safetensors.torch.save(tensors)
    config = _json_bytes(trained.config)
    for attempt in range(5):
        try:
            with transaction.atomic():
                last = ModelVersion.objects.filter(kind=kind).order_by("-version").values_list("version", flat=True).first()
                number = (last or 0) + 1
                directory = f"{ai_settings.ARTIFACT_PREFIX}/{kind}/v{number}"
                # The row first: a concurrent registration of the same number fails on the unique
                # constraint before it writes any file.
                version = ModelVersion.objects.create(
                    kind=kind,
                    version=number,
                    training_run=run,
                    artifact_dir=directory,
                    config=_config_summary(trained.config),
                    metrics=trained.metrics,
                    report=trained.report,
                    primary_metric=kind_obj.primary_metric,
                )
                metadata = _json_bytes(
                    {
                        "kind": kind,
                        "version": number,
                        "training_run": run.pk if run else None,
                        "metrics": trained.metrics,
                        "primary_metric": kind_obj.primary_metric,
                        "data_summary": trained.data_summary,
                        "created_at": timezone.now().isoformat(),
                        "torch": torch.__version__,
                        "tensors": {name: [str(t.dtype), list(t.shape)] for name, t in tensors.items()},
                    }
                )
                checksums = {}
                for name, data in ((WEIGHTS, weights), (CONFIG, config), (METADATA, metadata)):
                    _write(f"{directory}/{name}", data)
                    checksums[name] = _sha256(data)
                version.checksums = checksums
                version.save(update_fields=["checksums"])
                return version
        except IntegrityError:
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _config_summary(config: dict[str, Any]) -> dict[str, Any]:
    """The config as shown in the admin/API: long lists (item keys…) are summarised."""
    summary = {}
    for key, value in config.items():
        if isinstance(value, (list, dict)) and len(value) > 20:
            summary[key] = f"<{type(value).__name__} of {len(value)}>"
        else:
            summary[key] = value
    return summary


def _write(path: str, data: bytes) -> None:
    storage = artifact_storage()
    if storage.exists(path):  # left over from a registration that rolled back
        storage.delete(path)
    saved = storage.save(path, ContentFile(data))
    if saved != path:
        raise ArtifactError(f"Storage saved {path} as {saved}")


# Loading -----------------------------------------------------------------------------------------
def read_artifacts(version: ModelVersion) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The version's tensors and config, after checking every file against its sha256."""
    storage = artifact_storage()
    blobs = {}
    for name in ARTIFACTS:
        path = f"{version.artifact_dir}/{name}"
        expected = version.checksums.get(name)
        if not expected:
            raise ArtifactError(f"{version}: no checksum recorded for {name}")
        try:
            with storage.open(path, "rb") as handle:
                data = handle.read()
        except (FileNotFoundError, OSError) as exc:
            raise ArtifactError(f"{version}: artifact {path} is missing ({exc.__class__.__name__})") from exc
        actual = _sha256(data)
        if actual != expected:
            raise ArtifactError(f"{version}: {path} is corrupt (sha256 {actual[:12]}…, expected {expected[:12]}…)")
        blobs[name] = data
    try:
        tensors = safetensors.torch.load(blobs[WEIGHTS])
        config = json.loads(blobs[CONFIG])
    except Exception as exc:  # checksummed but unreadable: written by something else
        raise ArtifactError(f"{version}: artifact cannot be read: {exc}") from exc
    return tensors, config


def load_version(version: ModelVersion) -> Any:
    """The serving object of this version (verified load; raises ArtifactError)."""
    tensors, config = read_artifacts(version)
    return get_kind(version.kind).load(tensors, config)


def verify_version(version: ModelVersion) -> None:
    read_artifacts(version)


# Promotion ---------------------------------------------------------------------------------------
def promote(version: ModelVersion, *, user=None, if_beats_margin: float | None = None) -> ModelVersion:
    """Make this version the live one of its kind; the previous live version is retired.

    The artifact is verified first: a version that could not be served is never promoted. With
    `if_beats_margin`, the version is promoted only if its primary metric beats the live one's by that
    margin, compared under the kind's lock (two candidates finishing at once cannot both win).
    """
    verify_version(version)
    now = timezone.now()
    with transaction.atomic():
        # Lock every version of the kind, so that concurrent promotions run one after the other.
        list(ModelVersion.objects.select_for_update().filter(kind=version.kind).values_list("pk", flat=True))
        current = ModelVersion.objects.get(pk=version.pk)
        if current.status == Status.LIVE:
            return current
        if if_beats_margin is not None:
            live = live_version(version.kind)
            if live is not None and not beats_live(current.primary_score, live.primary_score, if_beats_margin):
                return current
        ModelVersion.objects.filter(kind=version.kind, status=Status.LIVE).update(status=Status.RETIRED, retired_at=now)
        current.status = Status.LIVE
        current.promoted_at = now
        current.retired_at = None
        current.save(update_fields=["status", "promoted_at", "retired_at"])
    logger.info("Promoted %s%s", current, f" (by {user})" if user else "")
    return current


def rollback(kind: str, *, user=None) -> ModelVersion:
    """Go back to the version that was live before the current one (which is retired)."""
    now = timezone.now()
    with transaction.atomic():
        list(ModelVersion.objects.select_for_update().filter(kind=kind).values_list("pk", flat=True))
        live = ModelVersion.objects.filter(kind=kind, status=Status.LIVE).first()
        if live is None:
            raise RegistryError(f"No live {kind} version to roll back from")
        previous = (
            ModelVersion.objects.filter(
                kind=kind, status=Status.RETIRED, promoted_at__isnull=False, promoted_at__lt=live.promoted_at
            )
            .order_by("-promoted_at", "-version")
            .first()
        )
        if previous is None:
            raise RegistryError(f"{kind} v{live.version} is the first version that was live: nothing to roll back to")
        verify_version(previous)
        live.status = Status.RETIRED
        live.retired_at = now
        live.save(update_fields=["status", "retired_at"])
        # promoted_at is kept, so that a second rollback goes one step further back in history.
        previous.status = Status.LIVE
        previous.retired_at = None
        previous.save(update_fields=["status", "retired_at"])
    logger.info("Rolled %s back from v%s to v%s%s", kind, live.version, previous.version, f" (by {user})" if user else "")
    return previous


def beats_live(score: float | None, live_score: float | None, margin: float) -> bool:
    """Whether a candidate's primary metric beats the live one's by the relative margin."""
    if score is None:
        return False
    if live_score is None:
        return True
    return score > live_score and score >= live_score + abs(live_score) * margin


def maybe_auto_promote(version: ModelVersion) -> bool:
    """Promote when there is no live version, or the primary metric beats it by AI_AUTO_PROMOTE_MARGIN."""
    margin = ai_settings.AUTO_PROMOTE_MARGIN
    if margin is None:
        return False
    live = live_version(version.kind)
    if live is not None and not beats_live(version.primary_score, live.primary_score, float(margin)):
        return False  # (decided again under the lock by promote)
    try:
        promoted = promote(version, if_beats_margin=float(margin))
    except ArtifactError as exc:
        logger.error("Not promoting %s automatically: %s", version, exc)
        ModelVersion.objects.filter(pk=version.pk).update(load_error=str(exc))
        return False
    return promoted.status == Status.LIVE


def live_version(kind: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(kind=kind, status=Status.LIVE).first()


# Serving -----------------------------------------------------------------------------------------
@dataclass
class LoadedModel:
    version_id: int
    version: int
    model: Any


@dataclass
class _Slot:
    loaded: LoadedModel | None
    checked_at: float
    failed: dict[int, str]


_cache: dict[str, _Slot] = {}
_lock = threading.Lock()


def live_loaded(kind: str) -> LoadedModel | None:
    """The loaded live version of `kind` (with its id, for impressions), or None when there is none.

    Cached per process; the registry is asked again at most every AI_REGISTRY_POLL_S seconds.
    """
    now = time.monotonic()
    slot = _cache.get(kind)
    if slot is not None and now - slot.checked_at < float(ai_settings.REGISTRY_POLL_S):
        return slot.loaded
    with _lock:
        slot = _cache.get(kind) or _Slot(None, float("-inf"), {})
        if now - slot.checked_at < float(ai_settings.REGISTRY_POLL_S):
            return slot.loaded
        slot.checked_at = now
        _cache[kind] = slot
        version = live_version(kind)
        if version is None:
            slot.loaded = None
            return None
        if slot.loaded is not None and slot.loaded.version_id == version.pk:
            return slot.loaded
        try:
            model = load_version(version)
        except Exception as exc:
            message = str(exc) or exc.__class__.__name__
            if slot.failed.get(version.pk) != message:
                slot.failed[version.pk] = message
                logger.error("Cannot load %s, keeping the previous model: %s", version, message)
                ModelVersion.objects.filter(pk=version.pk).update(load_error=message[:2000])
            return slot.loaded
        slot.failed.pop(version.pk, None)
        if version.load_error:
            ModelVersion.objects.filter(pk=version.pk).update(load_error="")
        slot.loaded = LoadedModel(version_id=version.pk, version=version.version, model=model)
        logger.info("Serving %s", version)
        return slot.loaded


def live_model(kind: str) -> Any | None:
    """The serving object of the live version of `kind`, or None when there is none (see live_loaded)."""
    loaded = live_loaded(kind)
    return loaded.model if loaded else None


def clear_cache() -> None:
    """Forget the loaded models (tests; a process that wants to reload at once)."""
    with _lock:
        _cache.clear()
