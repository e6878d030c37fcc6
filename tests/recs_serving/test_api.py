"""GET /api/v1/recommendations/: answers, authentication and bad input."""
from __future__ import annotations

import pytest

from shop.models import ApiKey
from shop.services.api_keys import create_api_key
from tests.factories import MerchantFactory, StaffFactory, UserFactory

from .conftest import add_events, make_popular

URL = "/api/v1/recommendations/"


@pytest.fixture
def read_key(db):
    _, raw = create_api_key(MerchantFactory(), scope=ApiKey.Scope.READ, name="headless")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def storefront_key(db):
    """A key staff trusted as a storefront backend: it may ask for any shopper's personal list."""
    api_key, raw = create_api_key(MerchantFactory(), scope=ApiKey.Scope.READ, name="storefront")
    ApiKey.objects.filter(pk=api_key.pk).update(trusted_storefront=True)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_trusted_storefront_key_gets_a_list_with_version_and_list_id(client, storefront_key, products):
    make_popular(products)
    add_events("v-1", [products[0].pk], event_type="purchase")
    response = client.get(URL, {"placement": "home", "visitor": "v-1", "limit": 3}, **storefront_key)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["placement"] == "home"
    assert body["title"] == "Popular right now"
    assert body["model_version_id"] is None
    assert len(body["list_id"]) == 32
    assert [item["id"] for item in body["items"]] == [p.pk for p in products[1:4]]  # bought one left out
    first = body["items"][0]
    assert set(first) == {"id", "title", "category_id", "category_name", "price", "url", "image_url", "reason"}
    assert first["price"] == "9.99" and first["url"].startswith("/")


def test_product_placement_and_basket_parameter(client, read_key, products):
    make_popular(products)
    response = client.get(
        URL,
        {"placement": "product_also_bought", "product": products[0].pk, "basket": f"{products[1].pk}, {products[2].pk}"},
        **read_key,
    )
    assert response.status_code == 200, response.content
    got = [item["id"] for item in response.json()["items"]]
    assert got and not {products[0].pk, products[1].pk, products[2].pk} & set(got)


def test_user_parameter_uses_the_customers_history(client, storefront_key, products):
    make_popular(products)
    user = UserFactory()
    add_events("whatever", [products[0].pk], event_type="purchase", user=user)
    body = client.get(URL, {"placement": "home", "user": user.pk}, **storefront_key).json()
    assert products[0].pk not in [item["id"] for item in body["items"]]


def test_staff_session_may_read(client, products):
    client.force_login(StaffFactory())
    assert client.get(URL, {"placement": "home"}).status_code == 200


@pytest.mark.parametrize("who, status", [("anonymous", 401), ("customer", 200)])
def test_needs_a_key_staff_or_a_signed_in_shopper(client, products, who, status):
    if who == "customer":
        client.force_login(UserFactory())
    response = client.get(URL, {"placement": "home"})
    assert response.status_code == status
    if status == 401:
        assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "placement"),
        ({"placement": "sidebar"}, "placement"),
        ({"placement": "home", "limit": "0"}, "limit"),
        ({"placement": "home", "limit": "51"}, "limit"),
        ({"placement": "home", "limit": "ten"}, "limit"),
        ({"placement": "home", "user": "abc"}, "user"),
        ({"placement": "home", "user": "-3"}, "user"),
        ({"placement": "product_similar"}, "product"),
        ({"placement": "product_similar", "product": "1.5"}, "product"),
        ({"placement": "basket", "basket": "1,x"}, "basket"),
        ({"placement": "home", "visitor": "v" * 65}, "visitor"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, read_key, products, params, field):
    response = client.get(URL, params, **read_key)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["message"]
    assert field in error["fields"], error


def test_unknown_product_is_a_404(client, read_key, products):
    response = client.get(URL, {"placement": "product_also_bought", "product": 999_999}, **read_key)
    assert response.status_code == 404
    assert "999999" in response.json()["error"]["message"]


def test_documented_in_the_schema(client, read_key):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/recommendations/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"placement", "user", "visitor", "product", "basket", "limit"} <= names
    assert "200" in operation["responses"] and "400" in operation["responses"]
