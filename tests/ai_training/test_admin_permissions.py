"""The ai admin's actions and pages follow Django model permissions (issue 11, item 3): a staff member with
no permission, and with each single one."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from ai.models import ModelVersion, TrainingRun
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ALL = ["ai.view_trainingrun", "ai.add_trainingrun", "ai.change_trainingrun", "ai.view_modelversion",
       "ai.change_modelversion", "ai.view_event"]


def staff_client(*perms: str) -> Client:
    user = UserFactory(is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client = Client()
    client.force_login(user)
    return client


def actions_offered(client, url: str) -> set[str]:
    response = client.get(url)
    if response.status_code != 200:
        return set()
    form = response.context.get("action_form")
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


@pytest.mark.parametrize("held", [None, *ALL])
def test_each_admin_power_needs_its_own_permission(held):
    client = staff_client(*([held] if held else []))
    run = TrainingRun.objects.create(kind="popularity")
    runs_url = reverse("admin:ai_trainingrun_changelist")
    versions_url = reverse("admin:ai_modelversion_changelist")

    train = client.get(reverse("admin:ai_trainingrun_train"))
    assert train.status_code == (200 if held == "ai.add_trainingrun" else 403)
    stats = client.get(reverse("admin:ai_recommendation_performance"))
    assert stats.status_code == (200 if held == "ai.view_event" else 403)

    run_actions = actions_offered(client, runs_url)
    assert ("cancel_selected" in run_actions) is (held == "ai.change_trainingrun")
    version_actions = actions_offered(client, versions_url)
    assert {"promote_selected", "rollback_kinds"} & version_actions == (
        {"promote_selected", "rollback_kinds"} if held == "ai.change_modelversion" else set()
    )
    # A forged POST of the action changes nothing without the permission.
    client.post(runs_url, {"action": "cancel_selected", "_selected_action": [run.pk]})
    run.refresh_from_db()
    assert run.cancel_requested is (held == "ai.change_trainingrun")


def test_the_train_now_link_shows_only_with_the_permission():
    page = staff_client("ai.view_trainingrun").get(reverse("admin:ai_trainingrun_changelist")).content.decode()
    assert reverse("admin:ai_trainingrun_train") not in page
    page = staff_client("ai.view_trainingrun", "ai.add_trainingrun").get(reverse("admin:ai_trainingrun_changelist"))
    assert reverse("admin:ai_trainingrun_train") in page.content.decode()


def test_a_forged_promote_needs_the_permission():
    version = ModelVersion.objects.create(kind="popularity", version=1, artifact_dir="x", checksums={})
    staff_client("ai.view_modelversion").post(
        reverse("admin:ai_modelversion_changelist"), {"action": "promote_selected", "_selected_action": [version.pk]}
    )
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.CANDIDATE


def test_train_now_says_where_the_run_went(settings, django_capture_on_commit_callbacks, monkeypatch):
    from celery import current_app

    settings.AI_TASKS_IN_PROCESS = False
    monkeypatch.setattr(current_app, "send_task", lambda *a, **k: None)
    client = staff_client("ai.view_trainingrun", "ai.add_trainingrun")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:ai_trainingrun_train"), {"kind": "popularity", "options": ""}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    run = TrainingRun.objects.get()
    assert messages == [f"popularity run #{run.pk} was sent to a Celery worker on the 'gpu' queue: queued."]
