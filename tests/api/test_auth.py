"""Authentication and scopes: Bearer keys, revocation, read-only keys, staff sessions, the key command."""
from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from shop.models import ApiKey, Product, StockAdjustment
from shop.services.api_keys import create_api_key, find_active_key, revoke
from tests.api.conftest import KeyedClient, make_order
from tests.factories import StaffFactory, UserFactory


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.mark.parametrize("path", ["/api/v1/products/", "/api/v1/orders/", "/api/v1/categories/"])
def test_no_key_is_401_with_www_authenticate(db, path):
    response = APIClient().get(path)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer ak_not-a-real-key", "Bearer", "Bearer a b", "bearer ak_x" + "y" * 300, "Bearer \xe9t\xe9"]
)
def test_invalid_key_is_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/products/")
    assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_key_is_refused(client_w, product):
    assert client_w.get("/api/v1/products/").status_code == 200
    revoke(client_w.api_key)
    response = client_w.patch(f"/api/v1/products/{product.pk}/", {"title": "Changed"}, format="json")
    assert_error(response, 401, "invalid_key")
    product.refresh_from_db()
    assert product.title == "Lantern"
    assert find_active_key(client_w.raw_key) is None


def test_keys_are_stored_hashed_and_record_last_use(client_w):
    stored = ApiKey.objects.get(pk=client_w.api_key.pk)
    assert client_w.raw_key not in (stored.hashed_key, stored.prefix) and stored.last_used_at is None
    client_w.get("/api/v1/products/")
    stored.refresh_from_db()
    first_use = stored.last_used_at
    assert first_use is not None
    client_w.get("/api/v1/products/")  # within the minute: no new write
    stored.refresh_from_db()
    assert stored.last_used_at == first_use
    ApiKey.objects.filter(pk=stored.pk).update(last_used_at=timezone.now() - timedelta(minutes=5))
    client_w.get("/api/v1/products/")
    stored.refresh_from_db()
    assert stored.last_used_at > first_use - timedelta(minutes=1)
    assert timezone.now() - stored.last_used_at < timedelta(seconds=30)


def write_requests(product, order):
    return [
        ("post", "/api/v1/products/", {"sku": "NEW-1", "title": "New", "price": "1.00"}),
        ("put", f"/api/v1/products/{product.pk}/", {"sku": product.sku, "title": "Changed", "price": "2.00"}),
        ("patch", f"/api/v1/products/{product.pk}/", {"title": "Changed"}),
        ("delete", f"/api/v1/products/{product.pk}/", None),
        ("post", "/api/v1/products/bulk-upsert/", {"rows": [{"sku": product.sku, "title": "Changed"}]}),
        ("post", f"/api/v1/products/{product.pk}/stock-adjustments/", {"delta": 1, "reason": "count"}),
        ("post", f"/api/v1/orders/{order.number}/mark-paid/", {}),
        ("post", "/api/v1/categories/", {"name": "New", "slug": "new"}),
    ]


def test_read_only_key_cannot_write(client_r, product):
    order = make_order([(product, 1)])
    for method, path, body in write_requests(product, order):
        response = getattr(client_r, method)(path, body, format="json")
        error = assert_error(response, 403, "permission_denied")
        assert error["message"] == f"This API key has the “read” scope; {method.upper()} needs “write”.", path
    product.refresh_from_db()
    order.refresh_from_db()
    assert (product.title, product.stock, product.is_active) == ("Lantern", 5, True)
    assert order.status == "pending"
    assert Product.objects.count() == 1 and not StockAdjustment.objects.exists()
    # and it can read
    assert client_r.get(f"/api/v1/products/{product.pk}/").status_code == 200
    assert client_r.get(f"/api/v1/orders/{order.number}/").status_code == 200


@pytest.mark.parametrize("scope,allowed", [("read", False), ("write", True), ("ai", True)])
def test_scopes_imply_each_other(merchant, scope, allowed):
    api_key, raw = create_api_key(merchant, scope=scope)
    response = KeyedClient(api_key, raw).post(
        "/api/v1/products/", {"sku": "S-1", "title": "Soap", "price": "3.20"}, format="json"
    )
    assert response.status_code == (201 if allowed else 403)
    assert Product.objects.filter(sku="S-1").exists() is allowed


def test_customer_session_is_refused(db):
    client = APIClient()
    client.force_login(UserFactory())
    assert_error(client.get("/api/v1/products/"), 403)


def test_staff_session_works_with_csrf(merchant, product):
    staff = StaffFactory()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff)
    listing = client.get("/api/v1/products/")
    assert listing.status_code == 200 and listing.json()["count"] == 1
    body = {"merchant": merchant.slug, "sku": "STAFF-1", "title": "Made by staff", "price": "1.00"}
    assert_error(client.post("/api/v1/products/", body, format="json"), 403)  # no CSRF token
    assert not Product.objects.filter(sku="STAFF-1").exists()
    token = "k" * 32  # a CSRF secret, as the csrftoken cookie would carry it
    client.cookies["csrftoken"] = token
    response = client.post("/api/v1/products/", body, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content
    assert Product.objects.get(sku="STAFF-1").merchant == merchant
    # staff may write categories; keys may not
    response = client.post("/api/v1/categories/", {"name": "Garden", "slug": "garden"}, format="json",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201 and response.json()["path"] == "garden"


def test_create_api_key_command_prints_the_key_last(merchant):
    out = StringIO()
    call_command("create_api_key", merchant.slug, "--scope", "write", "--name", "erp", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    api_key = find_active_key(raw)
    assert api_key is not None and api_key.merchant == merchant
    assert (api_key.scope, api_key.name) == ("write", "erp")
    assert KeyedClient(api_key, raw).get("/api/v1/products/").status_code == 200


def test_create_api_key_command_unknown_merchant(db):
    with pytest.raises(CommandError, match="No merchant with the slug 'nobody'"):
        call_command("create_api_key", "nobody", stdout=StringIO())
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("scope,allowed", [("read", False), ("write", False), ("ai", True)])
def test_has_scope_permission(merchant, scope, allowed):
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView

    from shop.api.permissions import HasScope

    class AiOnly(APIView):
        permission_classes = [HasScope("ai")]

        def post(self, request):
            return Response({"merchant": request.auth.merchant.slug})

    _, raw = create_api_key(merchant, scope=scope)
    request = APIRequestFactory().post("/x/", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = AiOnly.as_view()(request)
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert response.data["error"]["message"] == "This request needs an API key with the “ai” scope."


@pytest.mark.parametrize("viewset", ["CategoryViewSet", "ProductViewSet", "OrderViewSet"])
def test_every_view_declares_its_own_authentication_permissions_and_throttles(viewset, settings):
    """Safe in a host shop whose REST framework defaults are open: nothing is inherited from them."""
    from shop.api import views

    cls = getattr(views, viewset)
    declared = {name for klass in cls.__mro__ if klass.__module__.startswith("shop.") for name in vars(klass)}
    assert {"authentication_classes", "permission_classes", "throttle_classes"} <= declared
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_AUTHENTICATION_CLASSES": [],
                               "DEFAULT_PERMISSION_CLASSES": [], "DEFAULT_THROTTLE_CLASSES": []}
    view = cls()
    assert [type(p).__name__ for p in view.get_permissions()][:1] == ["IsApiKeyOrStaff"]
    assert [type(a).__name__ for a in view.get_authenticators()] == ["ApiKeyAuthentication", "SessionAuthentication"]
    assert [type(t).__name__ for t in view.get_throttles()] == ["ApiKeyRateThrottle"]
