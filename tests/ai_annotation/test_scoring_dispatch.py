"""The labelling page's scoring pass goes the way training runs go (`ai.training.dispatch`): after the
commit, to a worker on AI_TRAIN_QUEUE by name, or in this process when there is no broker; once per live
version, and again if the broker refused the message."""
from __future__ import annotations

import pytest
from celery import current_app
from kombu.exceptions import OperationalError

from ai.annotation import scoring
from ai.annotation.scoring import live_version_id, schedule_scoring
from ai.models import LabelSet, ModelVersion


@pytest.fixture
def live(label_set) -> int:
    ModelVersion.objects.create(kind=label_set.model_key, version=1, status="live", artifact_dir="x")
    return live_version_id(label_set)


@pytest.fixture
def sent(monkeypatch, settings):
    settings.AI_TASKS_IN_PROCESS = False
    settings.AI_TRAIN_QUEUE = "gpu-big"
    messages = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, args=None, task_id=None, queue=None, **kw: messages.append((name, args, queue))
    )
    return messages


def test_sent_by_name_to_the_training_queue_after_the_commit_once_per_live_version(
    label_set, live, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert schedule_scoring(label_set, live) is True
        assert schedule_scoring(LabelSet.objects.get(pk=label_set.pk), live) is False  # a second page load
    assert sent == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [("ai.tasks.score_label_set", [label_set.pk], "gpu-big")]
    assert LabelSet.objects.get(pk=label_set.pk).scored_version_id == live


def test_nothing_is_queued_without_a_live_model(label_set, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert schedule_scoring(label_set, None) is False
    assert (callbacks, sent) == ([], [])


def test_a_refused_message_unmarks_the_set_so_the_next_page_queues_it_again(
    label_set, live, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.AI_TASKS_IN_PROCESS = False

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    monkeypatch.setattr(current_app, "send_task", down)
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_scoring(label_set, live) is True
    assert LabelSet.objects.get(pk=label_set.pk).scored_version_id is None
    with django_capture_on_commit_callbacks(execute=False):
        assert schedule_scoring(LabelSet.objects.get(pk=label_set.pk), live) is True


def test_without_a_broker_the_pass_runs_in_this_process_after_the_commit(
    label_set, live, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.AI_TASKS_IN_PROCESS = True
    monkeypatch.setattr(current_app, "send_task", lambda *a, **k: pytest.fail("sent to a broker"))
    scored = []
    monkeypatch.setattr(scoring, "score_label_set", lambda pk: scored.append(pk) or 0)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        schedule_scoring(label_set, live)
    assert scored == []
    callbacks[0]()
    assert scored == [label_set.pk]
