"""Every JSON entry point answers a pathologically nested body with 400 and the error body, never a 500.

The routes are read from the URL conf, so a new endpoint is covered the day it is added: each route (the
admin aside) gets a ~6 KB body nested 3,000 deep by POST, PUT and PATCH, as application/json and as the
beacon's text/plain. No route may answer 5xx; every JSON answer at 4xx has the API's error body; and every
route that reads a JSON body (each operation of the OpenAPI schema with a request body, the beacon) answers
400 `parse_error`.
"""
from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.views import APIView

from ai.models import ModelVersion, TrainingRun
from shop.api.parsers import loads_strict, nesting_depth
from shop.models import InventoryDefaults, PurchaseOrder, Supplier
from tests.api.conftest import make_order
from tests.factories import CategoryFactory, ProductFactory, StaffFactory

DEEP_BODY = "[" * 3000 + "]" * 3000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
OBJECT_ID = 4242
ROUTE_ARGS = {
    "pk": str(OBJECT_ID), "number": "A0001", "path": "home", "slug": "lantern", "uidb64": "MQ", "token": "x-y", "hue": "30",
    "letters": "AB", "merchant": "acme",
}
# The JSON entry point outside the OpenAPI schema (a browser beacon).
READS_BODY_OUTSIDE_DRF = {"ai:beacon"}


def operations_with_a_body() -> set[tuple[str, str]]:
    """(URL, METHOD) of every operation whose OpenAPI schema documents a request body, on our objects."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    values = {**ROUTE_ARGS, "id": str(OBJECT_ID)}
    return {
        (re.sub(r"{(\w+)}", lambda match: values[match[1]], path), method.upper())
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }


def named_routes(patterns=None, namespace: str = ""):
    """(URL name, callback, argument names) of every named route, the format-suffix duplicates aside."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if pattern.namespace == "admin":
                continue
            yield from named_routes(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            args = set(pattern.pattern.regex.groupindex)
            if "format" not in args:
                yield f"{namespace}{pattern.name}", pattern.callback, sorted(args)


def reads_json(name: str, url: str, with_body: set[tuple[str, str]], callback=None) -> set[str]:
    """The methods of a route that read a JSON body: those the schema documents with one; for a DRF view left
    out of the schema (ai's chat), every write method it has."""
    if name in READS_BODY_OUTSIDE_DRF:
        return {"POST"}
    view_class = getattr(callback, "cls", None)
    if not url.startswith("/api/") and view_class is not None and issubclass(view_class, APIView):
        return {method.upper() for method in view_class.http_method_names} & {"POST", "PUT", "PATCH"} & {
            method for method in ("POST", "PUT", "PATCH") if hasattr(view_class, method.lower())}
    return {method for path, method in with_body if path == url}


@pytest.fixture
def objects(db):
    category = CategoryFactory(pk=OBJECT_ID, slug="home")
    product = ProductFactory(pk=OBJECT_ID, category=category, slug="lantern", merchant__slug="acme")
    make_order([(product, 1)], number="A0001")
    supplier = Supplier.objects.create(pk=OBJECT_ID, merchant=product.merchant, name="Acme Wholesale")
    PurchaseOrder.objects.create(pk=OBJECT_ID, merchant=product.merchant, supplier=supplier)
    InventoryDefaults.objects.create(merchant=product.merchant)
    run = TrainingRun.objects.create(pk=OBJECT_ID, kind="popularity")
    ModelVersion.objects.create(pk=OBJECT_ID, kind="popularity", version=1, artifact_dir="x", training_run=run)


def test_the_walk_finds_the_json_entry_points():
    with_body = operations_with_a_body()
    found = {name for name, _, args in named_routes()
             if reads_json(name, reverse(name, kwargs={arg: ROUTE_ARGS[arg] for arg in args}), with_body)}
    assert {"api-product-list", "api-product-bulk-upsert", "ai-events", "ai-training-runs", "ai:beacon"} <= found
    views = {getattr(callback, "cls", None) for name, callback, _ in named_routes() if name in found - {"ai:beacon"}}
    assert all(view is not None and issubclass(view, APIView) for view in views)


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_every_json_entry_point_answers_400_to_a_deep_body(client, objects, content_type):
    client.force_login(StaffFactory())
    with_body = operations_with_a_body() if content_type == "application/json" else set()
    checked = 0
    for name, callback, args in named_routes():
        url = reverse(name, kwargs={arg: ROUTE_ARGS[arg] for arg in args})
        reads_body = reads_json(name, url, with_body, callback) if content_type == "application/json" else (
            {"POST"} if name in READS_BODY_OUTSIDE_DRF else set())
        for method in ("POST", "PUT", "PATCH"):
            response = client.generic(
                method, url, DEEP_BODY, content_type=content_type, HTTP_ORIGIN="http://testserver",
                HTTP_IDEMPOTENCY_KEY=f"deep {method} {url}",  # so that receiving gets as far as its body
            )
            where = (name, method, response.status_code, response.content[:200])
            assert response.status_code < 500, where
            if response.get("Content-Type", "").startswith("application/json") and response.status_code >= 400:
                assert set(response.json()["error"]) == {"code", "message", "fields"}, where
            if method in reads_body:
                assert response.status_code == 400, where
                assert response.json()["error"]["code"] == "parse_error", where
                checked += 1
    assert checked >= 16 if content_type == "application/json" else checked == 1


@pytest.mark.django_db
def test_an_object_nested_past_the_limit_is_refused_before_validation(client_w):
    response = client_w.generic("POST", "/api/v1/events/", DEEP_OBJECT[:6000], content_type="application/json")
    assert response.status_code == 400
    body = '{"events": [{"event_type": "view", "visitor_id": "v", "extra": ' + '{"a":' * 40 + "1" + "}" * 41 + "]}"
    response = client_w.generic("POST", "/api/v1/events/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "parse_error", "message": "Malformed JSON: nested too deeply (at most 32 levels).", "fields": {},
    }


@pytest.mark.parametrize("value,depth", [(1, 0), ([], 1), ({"a": [1, {"b": []}]}, 4), ([[[[]]], []], 4)])
def test_nesting_depth(value, depth):
    assert nesting_depth(value) == depth


def test_loads_strict_accepts_the_limit_and_refuses_one_more(settings):
    settings.API_JSON_MAX_DEPTH = 5
    assert loads_strict("[[[[[]]]]]") == [[[[[]]]]]
    with pytest.raises(Exception, match="at most 5 levels"):
        loads_strict("[[[[[[]]]]]]")


@pytest.mark.django_db
def test_a_wrong_type_for_event_type_is_a_400(client_w):
    response = client_w.post("/api/v1/events/", {"events": [{"event_type": {}, "visitor_id": "v"}]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "events": {"0": {"event_type": ["Unknown event type: use a known type or a name matching ^[a-z_]{1,32}$."]}}
    }
