from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from ai.api.events import EventBatchView
from ai.models import Event, ModelVersion
from tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


@pytest.fixture
def staff_client():
    client = APIClient()
    client.force_login(StaffFactory())
    return client


@pytest.fixture
def product():
    return ProductFactory()


def view_event(product_id, **overrides):
    return {"event_type": "view", "visitor_id": "visitor-1", "product_id": product_id} | overrides


def test_a_batch_is_stored_in_full(staff_client, product):
    user = UserFactory()
    version = ModelVersion.objects.create(kind="sasrec", version=1, artifact_dir="x")
    when = (timezone.now() - timedelta(days=2)).replace(microsecond=0)
    events = [
        view_event(product.pk),
        {"event_type": "add_to_cart", "user_id": user.pk, "product_id": product.pk, "created_at": when.isoformat()},
        {"event_type": "search", "visitor_id": "visitor-1", "query": "teapot"},
        {"event_type": "rec_click", "visitor_id": "v2", "product_id": product.pk, "placement": "home",
         "model_version_id": version.pk, "extra": {"list_id": "abc"}},
        {"event_type": "wishlist_add", "visitor_id": "v3", "product_id": product.pk},
    ]

    response = staff_client.post(URL, {"events": events}, format="json")

    assert response.status_code == 201, response.content
    assert response.json() == {"stored": 5}
    stored = {e.event_type: e for e in Event.objects.all()}
    assert stored["add_to_cart"].user_id == user.pk and stored["add_to_cart"].created_at == when
    assert stored["search"].query == "teapot" and stored["search"].product_id is None
    assert stored["rec_click"].model_version_id == version.pk and stored["rec_click"].extra == {"list_id": "abc"}
    assert abs((stored["view"].created_at - timezone.now()).total_seconds()) < 60


def test_one_bad_event_in_a_full_batch_stores_nothing(staff_client, product):
    events = [view_event(product.pk, visitor_id=f"v{i}") for i in range(999)] + [view_event(product.pk, event_type="Not A Type")]

    response = staff_client.post(URL, {"events": events}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "1 of 1000 events are invalid; nothing was stored."
    assert list(error["fields"]["events"]) == ["999"]
    assert "event_type" in error["fields"]["events"]["999"]
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"visitor_id": ""}, "visitor_id"),  # neither a visitor nor a user
        ({"visitor_id": "x" * 65}, "visitor_id"),
        ({"product_id": 0}, "product_id"),
        ({"product_id": "abc"}, "product_id"),
        ({"product_id": 987654321}, "product_id"),  # no such product
        ({"user_id": 987654321}, "user_id"),  # no such user
        ({"model_version_id": 987654321}, "model_version_id"),
        ({"extra": ["not", "a", "dict"]}, "extra"),
        ({"extra": {f"k{i}": i for i in range(30)}}, "extra"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"created_at": (timezone.now() + timedelta(days=1)).isoformat()}, "created_at"),
        ({"query": "q" * 201}, "query"),
        ({"event_type": "x" * 33}, "event_type"),
        ({"extra": {"note": "a\x00b"}}, "extra"),  # PostgreSQL's jsonb refuses NUL
        ({"query": "tea\x00pot"}, "query"),
        ({"product_id": 2**63}, "product_id"),  # past a 64-bit column
        ({"user_id": 2**40}, "user_id"),  # past a 32-bit user key: unknown, not a database error
    ],
)
def test_invalid_rows_are_listed_by_index_and_nothing_is_stored(staff_client, product, overrides, field):
    events = [view_event(product.pk), view_event(product.pk) | overrides, view_event(product.pk)]

    response = staff_client.post(URL, {"events": events}, format="json")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["message"] == "1 of 3 events are invalid; nothing was stored."
    assert list(error["fields"]["events"]) == ["1"] and field in error["fields"]["events"]["1"]
    assert Event.objects.count() == 0


def test_more_than_the_maximum_is_refused(staff_client, product):
    response = staff_client.post(URL, {"events": [view_event(product.pk)] * 1001}, format="json")
    assert response.status_code == 400
    assert "At most 1000 events per batch; got 1001." in response.json()["error"]["message"]
    assert Event.objects.count() == 0


@override_settings(AI_BATCH_MAX_EVENTS=2)
def test_the_maximum_is_a_setting(staff_client, product):
    assert staff_client.post(URL, {"events": [view_event(product.pk)] * 3}, format="json").status_code == 400
    assert staff_client.post(URL, {"events": [view_event(product.pk)] * 2}, format="json").status_code == 201


@pytest.mark.parametrize("body", [{}, {"events": []}, {"events": "view"}, [view_event(1)]], ids=["missing", "empty", "not-a-list", "bare-list"])
def test_malformed_batches_get_400(staff_client, body):
    response = staff_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"]


def test_malformed_json_gets_400(staff_client):
    response = staff_client.post(URL, "{nope", content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.json()


def test_anonymous_callers_are_refused():
    response = APIClient().post(URL, {"events": [view_event(None)]}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Event.objects.count() == 0


def test_signed_in_customers_are_refused():
    client = APIClient()
    client.force_login(UserFactory())
    response = client.post(URL, {"events": [view_event(None)]}, format="json")
    assert response.status_code == 403
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    "scopes, allowed",
    [({"recommendations"}, False), ({"recommendations", "events"}, True), ({"events", "models:read"}, True), (set(), False)],
)
def test_the_api_clients_events_scope_decides(product, scopes, allowed):
    from django.contrib.auth.models import AnonymousUser

    from ai.adapter import ApiClient

    request = APIRequestFactory().post(URL, {"events": [view_event(product.pk)]}, format="json")
    client = ApiClient(id="key:test", scopes=frozenset(scopes), owner=product.merchant_id)
    force_authenticate(request, user=AnonymousUser(), token=client)
    response = EventBatchView.as_view()(request)
    assert (response.status_code == 201) is allowed
    assert Event.objects.count() == (1 if allowed else 0)


def test_real_api_keys_with_the_ai_scope_can_send_events(product):
    from shop.services.api_keys import create_api_key

    _, raw_ai = create_api_key(product.merchant, scope="ai")
    _, raw_read = create_api_key(product.merchant, scope="read")
    client = APIClient()

    ok = client.post(URL, {"events": [view_event(product.pk)]}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw_ai}")
    refused = client.post(URL, {"events": [view_event(product.pk)]}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw_read}")

    assert (ok.status_code, refused.status_code) == (201, 403)
    assert Event.objects.count() == 1


def test_the_endpoint_is_fully_described_in_the_openapi_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/events/"]["post"]
    assert operation["operationId"] == "events_batch_create"
    assert {"201", "400", "401", "403", "413"} <= set(operation["responses"])
    request_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    batch = schema["components"]["schemas"][request_ref]
    assert batch["properties"]["events"]["maxItems"] == 1000
    event_ref = batch["properties"]["events"]["items"]["$ref"].rsplit("/", 1)[-1]
    assert {"event_type", "visitor_id", "user_id", "product_id", "created_at", "extra"} <= set(
        schema["components"]["schemas"][event_ref]["properties"]
    )
