from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ai.models import ModelVersion, TrainingRun


def run_command(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ai_train_wait_trains_in_process_and_prints_status_and_metrics(shop_events):
    out, err = run_command("ai_train", "popularity", "--option", "half_life_days=10", "--wait")
    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert (run.requested_via, run.options["half_life_days"]) == ("cli", 10.0)
    assert f"popularity: run #{run.pk} succeeded" in out
    assert f"ndcg@10: {run.metrics['ndcg@10']:.4f}" in out
    assert "version: popularity v1 (live)" in out
    assert "100%" in err  # the progress bar


def test_ai_train_without_wait_runs_eagerly_without_a_broker(shop_events):
    out, _ = run_command("ai_train", "popularity")
    assert "succeeded" in out
    assert ModelVersion.objects.filter(kind="popularity").count() == 1


def test_ai_train_exits_non_zero_when_the_run_fails(catalogue):
    with pytest.raises(CommandError, match=r"popularity run #\d+ failed: ValueError: No product events"):
        run_command("ai_train", "popularity", "--wait")
    assert TrainingRun.objects.get().status == TrainingRun.Status.FAILED


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope"], "Unknown model kind 'nope'"),
        (["popularity", "--option", "epochs=3"], "Unknown option 'epochs' for popularity"),
        (["popularity", "--option", "half_life_days=soon"], "must be a float"),
        (["popularity", "--option", "half_life_days"], "--option takes name=value"),
        (["all", "--option", "days=3"], "applies to a single kind"),
    ],
)
def test_ai_train_bad_input_is_a_readable_error_and_starts_nothing(db, args, message):
    with pytest.raises(CommandError, match=message):
        run_command("ai_train", *args)
    assert not TrainingRun.objects.exists()


def test_ai_train_all_trains_the_registered_retrain_kinds(shop_events, settings):
    settings.AI_RETRAIN_KINDS = ["popularity", "not-a-kind"]
    out, err = run_command("ai_train", "all", "--wait")
    assert "Not registered, skipped: not-a-kind" in err
    assert list(TrainingRun.objects.values_list("kind", "status")) == [("popularity", "succeeded")]


@pytest.mark.slow
def test_manage_py_exits_with_status_1_and_a_readable_message(db):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "ai_train", "nope"], capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 1
    assert "Unknown model kind 'nope'" in result.stderr


def test_ai_promote_and_ai_rollback(make_version):
    make_version(0.1, status=ModelVersion.Status.LIVE)
    make_version(0.2)
    out, _ = run_command("ai_promote", "popularity", "2")
    assert "popularity v2 is live" in out
    out, _ = run_command("ai_rollback", "popularity")
    assert "v1 is live" in out
    with pytest.raises(CommandError, match="nothing to roll back to"):
        run_command("ai_rollback", "popularity")
    with pytest.raises(CommandError, match=r"No popularity v9 \(versions: v2, v1\)"):
        run_command("ai_promote", "popularity", "9")


def test_ai_train_background_starts_one_detached_process_for_the_kinds(db, monkeypatch, tmp_path, settings):
    import subprocess

    started = []

    class FakePopen:
        pid = 4242

        def __init__(self, command, **kwargs):
            started.append((command, kwargs))

    settings.BASE_DIR = tmp_path
    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    out, _ = run_command("ai_train", "sasrec", "content", "--background")
    [(command, kwargs)] = started
    assert command[1:] == ["-m", "django", "ai_train", "sasrec", "content"]
    assert kwargs["start_new_session"] is True
    assert "training in the background (process 4242" in out
    assert (tmp_path / "var" / "log" / "ai_train_background.log").exists()
    assert not TrainingRun.objects.exists()  # the child process starts the runs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["all", "sasrec"], "cannot be combined"),
        (["sasrec", "content", "--option", "epochs=2"], "--option applies to a single kind"),
        (["sasrec", "--wait", "--background"], "exclude each other"),
    ],
)
def test_ai_train_refuses_bad_kind_lists(db, args, message):
    with pytest.raises(CommandError, match=message):
        run_command("ai_train", *args)
