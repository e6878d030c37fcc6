from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from ai import registry
from ai.models import ModelVersion

Status = ModelVersion.Status


def test_versions_are_numbered_per_kind_with_checksummed_artifacts(make_version):
    first, second = make_version(), make_version()
    assert (first.version, second.version) == (1, 2)
    assert second.artifact_dir == "ai-models/popularity/v2"
    assert set(second.checksums) == {"weights.safetensors", "config.json", "metadata.json"}
    assert all(len(digest) == 64 for digest in second.checksums.values())
    assert second.status == Status.CANDIDATE
    tensors, config = registry.read_artifacts(second)
    assert tensors["scores"].tolist() == [3.0, 2.0, 1.0]
    assert config["item_keys"] == [101, 102, 103]


@pytest.mark.parametrize(
    "score, live, margin, expected",
    [
        (0.11, 0.10, 0.0, True),
        (0.10, 0.10, 0.0, False),
        (0.104, 0.10, 0.05, False),
        (0.106, 0.10, 0.05, True),
        (0.01, None, 0.5, True),
        (None, 0.10, 0.0, False),
        (0.0, 0.0, 0.0, False),
    ],
)
def test_beats_live_uses_a_relative_margin(score, live, margin, expected):
    assert registry.beats_live(score, live, margin) is expected


def test_auto_promote_first_version_then_only_by_margin(make_version, settings):
    settings.AI_AUTO_PROMOTE_MARGIN = 0.1
    first = make_version(0.20)
    assert registry.maybe_auto_promote(first) is True
    small_gain = make_version(0.21)
    assert registry.maybe_auto_promote(small_gain) is False
    big_gain = make_version(0.23)
    assert registry.maybe_auto_promote(big_gain) is True
    statuses = dict(ModelVersion.objects.values_list("version", "status"))
    assert statuses == {1: Status.RETIRED, 2: Status.CANDIDATE, 3: Status.LIVE}


def test_auto_promote_can_be_turned_off(make_version, settings):
    settings.AI_AUTO_PROMOTE_MARGIN = None
    assert registry.maybe_auto_promote(make_version(0.5)) is False
    assert registry.live_version("popularity") is None


def test_promote_retires_the_previous_live_version(make_version):
    first = make_version(status=Status.LIVE)
    second = registry.promote(make_version())
    first.refresh_from_db()
    assert (first.status, second.status) == (Status.RETIRED, Status.LIVE)
    assert first.retired_at and second.promoted_at
    assert registry.live_version("popularity") == second


def test_the_database_allows_one_live_version_per_kind(make_version):
    make_version(status=Status.LIVE)
    other = make_version()
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=other.pk).update(status=Status.LIVE)


def test_rollback_walks_back_through_the_promotion_history(make_version):
    v1 = make_version(status=Status.LIVE)
    v2 = make_version(status=Status.LIVE)
    v3 = make_version(status=Status.LIVE)
    assert registry.rollback("popularity") == v2
    assert registry.rollback("popularity") == v1
    with pytest.raises(registry.RegistryError, match="nothing to roll back to"):
        registry.rollback("popularity")
    assert registry.live_version("popularity") == v1
    v3.refresh_from_db()
    assert v3.status == Status.RETIRED


def test_rollback_without_a_live_version_is_a_clear_error(make_version):
    make_version()
    with pytest.raises(registry.RegistryError, match="No live popularity version"):
        registry.rollback("popularity")


def _corrupt(version: ModelVersion, name: str = "weights.safetensors") -> None:
    storage = registry.artifact_storage()
    path = storage.path(f"{version.artifact_dir}/{name}")
    with open(path, "r+b") as handle:
        handle.seek(20)
        handle.write(b"\x00garbage\x00")


def test_promote_refuses_a_corrupt_artifact(make_version):
    live = make_version(status=Status.LIVE)
    broken = make_version()
    _corrupt(broken)
    with pytest.raises(registry.ArtifactError, match="corrupt"):
        registry.promote(broken)
    assert registry.live_version("popularity") == live


def test_live_model_switches_after_a_promotion(make_version, settings):
    settings.AI_REGISTRY_POLL_S = 0
    assert registry.live_model("popularity") is None
    make_version(scores=(1.0, 5.0, 2.0), status=Status.LIVE)
    assert registry.live_model("popularity").top_keys(1) == [102]
    make_version(scores=(9.0, 1.0, 2.0), status=Status.LIVE)
    loaded = registry.live_loaded("popularity")
    assert loaded.version == 2
    assert loaded.model.top_keys(3) == [101, 103, 102]


def test_live_model_is_cached_between_polls(make_version, settings, django_assert_num_queries):
    settings.AI_REGISTRY_POLL_S = 3600
    make_version(status=Status.LIVE)
    model = registry.live_model("popularity")
    with django_assert_num_queries(0):
        assert registry.live_model("popularity") is model


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_broken_live_artifact_keeps_the_working_model_and_records_the_error(make_version, settings, caplog, damage):
    settings.AI_REGISTRY_POLL_S = 0
    make_version(scores=(1.0, 5.0, 2.0), status=Status.LIVE)
    working = registry.live_model("popularity")
    broken = make_version(scores=(9.0, 1.0, 2.0), status=Status.LIVE)
    if damage == "corrupt":
        _corrupt(broken, "config.json")
    else:
        registry.artifact_storage().delete(f"{broken.artifact_dir}/weights.safetensors")

    assert registry.live_model("popularity") is working
    broken.refresh_from_db()
    assert damage in broken.load_error
    assert "keeping the previous model" in caplog.text
    # A process that never had a working model serves nothing rather than a broken one.
    registry.clear_cache()
    assert registry.live_model("popularity") is None


def test_load_error_is_cleared_once_the_version_loads(make_version, settings):
    settings.AI_REGISTRY_POLL_S = 0
    version = make_version(status=Status.LIVE)
    ModelVersion.objects.filter(pk=version.pk).update(load_error="old trouble")
    assert registry.live_model("popularity") is not None
    version.refresh_from_db()
    assert version.load_error == ""
