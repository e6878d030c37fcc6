from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ai.models import ModelVersion, TrainingRun
from shop.models import ApiKey
from shop.services.api_keys import create_api_key
from tests.factories import MerchantFactory, StaffFactory, UserFactory

Status = TrainingRun.Status


@pytest.fixture
def staff_api(db):
    client = APIClient()
    client.force_login(StaffFactory())
    return client


def key_client(scope: str, *, model_control: bool = False) -> APIClient:
    api_key, raw = create_api_key(MerchantFactory(), scope=scope)
    if model_control:
        ApiKey.objects.filter(pk=api_key.pk).update(ai_model_control=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_post_starts_a_run_and_answers_202(staff_api, shop_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post("/api/v1/training-runs/", {"kind": "popularity", "options": {"half_life_days": 3}}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["options"], body["requested_via"]) == ("popularity", {"half_life_days": 3.0, "days": 0}, "api")
    # Without a broker the task ran in-process once the request's transaction committed.
    detail = staff_api.get(f"/api/v1/training-runs/{body['id']}/").json()
    assert detail["status"] == Status.SUCCEEDED and detail["progress"] == 100
    assert detail["model_version"] == ModelVersion.objects.get().pk
    assert detail["requested_by"].startswith("user")


@pytest.mark.parametrize(
    "payload, field, message",
    [
        ({"kind": "nope"}, "kind", "Unknown model kind 'nope'"),
        ({"kind": "popularity", "options": {"epochs": 1}}, "options", "Unknown option 'epochs'"),
        ({"kind": "popularity", "options": {"half_life_days": "soon"}}, "options", "must be a float"),
        ({"kind": "popularity", "options": "fast"}, "options", ""),
        ({}, "kind", "required"),
    ],
)
def test_bad_training_requests_get_400_and_store_nothing(staff_api, payload, field, message):
    response = staff_api.post("/api/v1/training-runs/", payload, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert field in error["fields"]
    assert message in str(error["fields"][field])
    assert not TrainingRun.objects.exists()


@pytest.mark.parametrize(
    "scope, control, status", [("ai", True, 202), ("ai", False, 403), ("write", True, 202), ("write", False, 403), ("read", False, 403)]
)
def test_only_keys_staff_granted_model_control_may_train(db, scope, control, status, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = key_client(scope, model_control=control).post("/api/v1/training-runs/", {"kind": "popularity"}, format="json")
    assert response.status_code == status, response.content
    if status == 403:
        assert response.json()["error"]["code"] == "permission_denied"
        assert not TrainingRun.objects.exists()


def test_customers_and_anonymous_callers_are_refused(db):
    customer = APIClient()
    customer.force_login(UserFactory())
    assert customer.get("/api/v1/training-runs/").status_code == 403
    assert customer.get("/api/v1/models/").status_code == 403
    anonymous = APIClient().get("/api/v1/training-runs/")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == 'Bearer realm="api"'  # the shop adapter's api_authenticate_header


def test_runs_are_listed_newest_first_and_filtered(staff_api):
    TrainingRun.objects.create(kind="popularity", status=Status.FAILED)
    newest = TrainingRun.objects.create(kind="popularity", status=Status.SUCCEEDED)
    body = staff_api.get("/api/v1/training-runs/").json()
    assert [run["id"] for run in body["results"]][0] == newest.pk
    filtered = staff_api.get("/api/v1/training-runs/", {"status": "failed"}).json()
    assert [run["status"] for run in filtered["results"]] == ["failed"]
    assert staff_api.get("/api/v1/training-runs/999999/").status_code == 404


def test_cancel_a_queued_run_and_refuse_to_cancel_a_finished_one(staff_api):
    queued = TrainingRun.objects.create(kind="popularity")
    response = staff_api.post(f"/api/v1/training-runs/{queued.pk}/cancel/")
    assert response.status_code == 202
    assert response.json()["status"] == Status.CANCELLED
    again = staff_api.post(f"/api/v1/training-runs/{queued.pk}/cancel/")
    assert again.status_code == 409
    assert "already finished" in again.json()["error"]["message"]


def test_models_promote_and_rollback(staff_api, make_version):
    first = make_version(0.1, status=ModelVersion.Status.LIVE)
    second = make_version(0.2)
    listing = staff_api.get("/api/v1/models/", {"kind": "popularity", "status": "candidate"}).json()
    assert [item["id"] for item in listing["results"]] == [second.pk]
    assert listing["results"][0]["primary_score"] == 0.2

    promoted = staff_api.post(f"/api/v1/models/{second.pk}/promote/")
    assert promoted.status_code == 200 and promoted.json()["status"] == "live"
    rolled = staff_api.post("/api/v1/models/rollback/", {"kind": "popularity"}, format="json")
    assert rolled.status_code == 200 and rolled.json()["id"] == first.pk
    nothing_left = staff_api.post("/api/v1/models/rollback/", {"kind": "popularity"}, format="json")
    assert nothing_left.status_code == 409
    assert "nothing to roll back to" in nothing_left.json()["error"]["message"]
    unknown = staff_api.post("/api/v1/models/rollback/", {"kind": "nope"}, format="json")
    assert unknown.status_code == 400 and "kind" in unknown.json()["error"]["fields"]


def test_promoting_a_corrupt_version_is_a_conflict(staff_api, make_version):
    from ai import registry

    version = make_version()
    registry.artifact_storage().delete(f"{version.artifact_dir}/config.json")
    response = staff_api.post(f"/api/v1/models/{version.pk}/promote/")
    assert response.status_code == 409
    assert "missing" in response.json()["error"]["message"]
    assert registry.live_version("popularity") is None


def test_the_schema_documents_the_training_endpoints(staff_api):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    post = schema["paths"]["/api/v1/training-runs/"]["post"]
    assert set(post["responses"]) >= {"202", "400", "403"}
    assert "/api/v1/models/{id}/promote/" in schema["paths"]
    assert "/api/v1/models/rollback/" in schema["paths"]
