from __future__ import annotations

import pytest
from django.urls import reverse

from ai.models import ModelVersion, TrainingRun

Status = TrainingRun.Status


@pytest.fixture
def staff_client(client, db):
    from tests.factories import StaffFactory

    client.force_login(StaffFactory())
    return client


def test_changelist_shows_status_progress_bar_device_and_metrics(staff_client):
    TrainingRun.objects.create(
        kind="popularity", status=Status.RUNNING, progress=42.5, device="cpu/2 threads", metrics={"ndcg@10": 0.1234}
    )
    page = staff_client.get(reverse("admin:ai_trainingrun_changelist")).content.decode()
    assert '<progress class="ai-progress" value="42.5" max="100"' in page
    assert "cpu/2 threads" in page
    assert "ndcg@10 0.1234" in page
    assert reverse("admin:ai_trainingrun_train") in page  # the "Train now" button


def test_run_page_draws_the_loss_curve_and_shows_log_and_error(staff_client):
    run = TrainingRun.objects.create(
        kind="popularity",
        status=Status.FAILED,
        loss_curve=[{"step": 1, "epoch": 0, "loss": 2.0}, {"step": 2, "epoch": 0, "loss": 1.5}],
        log_tail="10:00:00 reading all events",
        error="ValueError: <no events>",
        traceback="Traceback (most recent call last): …",
    )
    page = staff_client.get(reverse("admin:ai_trainingrun_change", args=[run.pk])).content.decode()
    assert "<svg" in page and "<polyline" in page
    assert "reading all events" in page
    assert "ValueError: &lt;no events&gt;" in page
    assert "Traceback (most recent call last)" in page


def test_train_now_starts_a_run(staff_client, shop_events, django_capture_on_commit_callbacks):
    url = reverse("admin:ai_trainingrun_train")
    assert "Start training" in staff_client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"kind": "popularity", "options": '{"half_life_days": 5}'})
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin:ai_trainingrun_change", args=[run.pk])
    assert (run.requested_via, run.options["half_life_days"], run.status) == ("admin", 5.0, Status.SUCCEEDED)


@pytest.mark.parametrize(
    "options, message",
    [
        ("{not json", "Not valid JSON"),
        ("[1, 2]", "Give a JSON object"),
        ('{"epochs": 2}', "Unknown option &#x27;epochs&#x27;"),
    ],
)
def test_train_now_shows_form_errors_and_starts_nothing(staff_client, options, message):
    response = staff_client.post(reverse("admin:ai_trainingrun_train"), {"kind": "popularity", "options": options})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TrainingRun.objects.exists()


def test_train_now_is_for_staff_only(client, db):
    response = client.get(reverse("admin:ai_trainingrun_train"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_cancel_action(staff_client):
    queued = TrainingRun.objects.create(kind="popularity")
    running = TrainingRun.objects.create(kind="popularity", status=Status.RUNNING)
    done = TrainingRun.objects.create(kind="popularity", status=Status.SUCCEEDED)
    staff_client.post(
        reverse("admin:ai_trainingrun_changelist"),
        {"action": "cancel_selected", "_selected_action": [queued.pk, running.pk, done.pk]},
    )
    statuses = {run.pk: (run.status, run.cancel_requested) for run in TrainingRun.objects.all()}
    assert statuses == {
        queued.pk: (Status.CANCELLED, True),
        running.pk: (Status.RUNNING, True),
        done.pk: (Status.SUCCEEDED, False),
    }


def test_model_versions_promote_and_rollback_actions_and_load_error(staff_client, make_version):
    first = make_version(0.1, status=ModelVersion.Status.LIVE)
    second = make_version(0.2)
    ModelVersion.objects.filter(pk=second.pk).update(load_error="artifact is corrupt")
    changelist = reverse("admin:ai_modelversion_changelist")
    assert "artifact is corrupt" in staff_client.get(changelist).content.decode()

    staff_client.post(changelist, {"action": "promote_selected", "_selected_action": [second.pk]})
    second.refresh_from_db()
    assert second.status == ModelVersion.Status.LIVE
    staff_client.post(changelist, {"action": "rollback_kinds", "_selected_action": [second.pk]})
    first.refresh_from_db()
    assert first.status == ModelVersion.Status.LIVE
    response = staff_client.post(changelist, {"action": "rollback_kinds", "_selected_action": [first.pk]}, follow=True)
    assert "nothing to roll back to" in response.content.decode()


def test_pages_of_a_real_run_and_its_version(staff_client, shop_events, django_capture_on_commit_callbacks):
    from ai.training import start_run

    with django_capture_on_commit_callbacks(execute=True):
        run = start_run("popularity", {})
    version = ModelVersion.objects.get(training_run=run)
    run_page = staff_client.get(reverse("admin:ai_trainingrun_change", args=[run.pk])).content.decode()
    assert reverse("admin:ai_modelversion_change", args=[version.pk]) in run_page
    assert "<th>ndcg@10</th>" in run_page and "<polyline" in run_page
    version_page = staff_client.get(reverse("admin:ai_modelversion_change", args=[version.pk])).content.decode()
    assert f"run #{run.pk}" in version_page and version.checksums["weights.safetensors"] in version_page


@pytest.mark.parametrize(
    "curve, expected",
    [
        ([{"step": 1, "epoch": 0, "loss": 3.0}, {"step": 2, "epoch": 0, "loss": 2.0}], "step"),
        ([{"step": 0, "epoch": 1, "loss": 3.0}, {"step": 0, "epoch": 2, "loss": 2.0}], "epoch"),
        ([{"step": 0, "epoch": 1, "loss": 3.0}, {"step": 0, "epoch": 2, "loss": 2.0}, {"step": 0, "epoch": 1, "loss": 2.5}], "report"),
    ],
)
def test_the_loss_chart_draws_against_whatever_moves(curve, expected):
    from ai.admin import loss_curve_x_axis

    assert loss_curve_x_axis(curve) == expected


@pytest.mark.parametrize("which", ["run", "version", "event"])
def test_read_only_records_offer_no_save_or_delete(staff_client, which):
    from django.utils import timezone

    from ai.models import Event

    run = TrainingRun.objects.create(kind="popularity", status=Status.SUCCEEDED)
    objects = {
        "run": run,
        "version": ModelVersion.objects.create(kind="popularity", version=1, training_run=run),
        "event": Event.objects.create(event_type="view", visitor_id="v1", product_id=7, created_at=timezone.now()),
    }
    obj = objects[which]
    opts = obj._meta
    page = staff_client.get(reverse(f"admin:ai_{opts.model_name}_change", args=[obj.pk])).content.decode()
    assert 'name="_save"' not in page and 'name="_continue"' not in page and 'name="_addanother"' not in page
    assert reverse(f"admin:ai_{opts.model_name}_delete", args=[obj.pk]) not in page
    changelist = staff_client.get(reverse(f"admin:ai_{opts.model_name}_changelist")).content.decode()
    assert 'value="delete_selected"' not in changelist
    assert staff_client.get(reverse(f"admin:ai_{opts.model_name}_delete", args=[obj.pk])).status_code == 403
