"""ai's API called the way this shop's own API clients authenticate: DRF tokens
(`Authorization: Token <key>`, rest_framework.authtoken), mapped to ai's scopes by the adapter's api_client."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ai import tracking
from ai.models import Event

pytestmark = pytest.mark.slow


@pytest.fixture
def api(staff):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    return client


def test_recommendations_api_with_the_shops_token(api, order_history, catalogue):
    tracking.backfill_purchase_events(progress=False)
    call_command("ai_train", "cooccurrence", "--wait", stdout=StringIO(), verbosity=0)
    response = api.get("/api/recommendations/", {"placement": "product_also_bought", "product": catalogue[0].pk, "limit": 3})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["placement"] == "product_also_bought" and body["model_version_id"] is not None
    assert body["items"][0]["id"] == catalogue[1].pk
    assert body["items"][0]["price"] == "18.50"  # Oscar's stock record price, through the adapter


def test_events_api_with_the_shops_token_stores_the_batch(api, catalogue):
    response = api.post(
        "/api/events/",
        {"events": [
            {"event_type": "view", "visitor_id": "app-visitor-1", "product_id": catalogue[2].pk},
            {"event_type": "add_to_cart", "visitor_id": "app-visitor-1", "product_id": catalogue[2].pk},
        ]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"stored": 2}
    assert list(Event.objects.order_by("pk").values_list("event_type", "visitor_id", "product_id")) == [
        ("view", "app-visitor-1", catalogue[2].pk), ("add_to_cart", "app-visitor-1", catalogue[2].pk)
    ]


def test_without_credentials_ai_api_asks_for_the_shops_token(db, catalogue):
    client = APIClient()
    response = client.get("/api/recommendations/", {"placement": "home"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"  # the adapter's api_authenticate_header
    assert response.json()["error"]["code"] == "not_authenticated"  # ai's own error body
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = bad.post("/api/events/", {"events": [{"event_type": "view", "visitor_id": "x", "product_id": catalogue[0].pk}]}, format="json")
    assert response.status_code == 401
    assert not Event.objects.exists()
