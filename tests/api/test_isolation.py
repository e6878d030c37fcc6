"""Merchant isolation: another merchant's key walks every endpoint and method of the merchant API and
reaches nothing of ours. The list of operations comes from the OpenAPI schema, so a new endpoint is
walked (or the test fails for want of a request for it)."""
from __future__ import annotations

import functools
import json
from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from shop.models import (
    Category,
    InventoryDefaults,
    Order,
    OrderLine,
    OrderPart,
    OrderStatus,
    OrderStatusChange,
    Product,
    ProductInventory,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderReceipt,
    StockAdjustment,
    Supplier,
)
from shop.services import purchasing
from tests.api.conftest import make_order
from tests.factories import ProductFactory, StaffFactory

OURS = (
    "/api/v1/products", "/api/v1/categories", "/api/v1/orders", "/api/v1/suppliers", "/api/v1/inventory-defaults",
    "/api/v1/purchase-orders", "/api/v1/forecasts", "/api/v1/reorder-suggestions",
)


@functools.cache
def merchant_api_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        if path.startswith(OURS)
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


def snapshot(merchant) -> dict:
    """Everything of `merchant` that the API could change, plus the shared category tree."""
    return {
        "products": list(Product.objects.filter(merchant=merchant).order_by("pk").values()),
        "adjustments": list(StockAdjustment.objects.filter(product__merchant=merchant).order_by("pk").values()),
        "orders": list(Order.objects.order_by("pk").values("number", "status", "updated_at")),
        "lines": list(OrderLine.objects.order_by("pk").values()),
        "categories": list(Category.objects.order_by("pk").values()),
        "suppliers": list(Supplier.objects.filter(merchant=merchant).order_by("pk").values()),
        "settings": list(ProductInventory.objects.filter(product__merchant=merchant).order_by("pk").values()),
        "defaults": list(InventoryDefaults.objects.filter(merchant=merchant).values()),
        "purchase_orders": list(PurchaseOrder.objects.filter(merchant=merchant).order_by("pk").values()),
        "po_lines": list(PurchaseOrderLine.objects.filter(order__merchant=merchant).order_by("pk").values()),
        "receipts": list(PurchaseOrderReceipt.objects.filter(order__merchant=merchant).order_by("pk").values()),
    }


@pytest.fixture
def replenishing(merchant, product):
    """Our supplier, reorder settings and defaults, and a sent purchase order of our product."""
    supplier = Supplier.objects.create(merchant=merchant, name="Acme Wholesale", lead_time_days=9)
    ProductInventory.objects.create(product=product, supplier=supplier, pack_size=6)
    InventoryDefaults.objects.create(merchant=merchant, lead_time_days=4)
    order = purchasing.send(purchasing.create_purchase_order(supplier, {product.pk: 12}))
    return supplier, order


def concrete(template: str, order, product, category, replenishing) -> str:
    """An operation's path with our objects' ids in it."""
    supplier, purchase_order = replenishing
    return (
        template.replace("{number}", order.number)
        .replace("categories/{id}", f"categories/{category.pk}")
        .replace("suppliers/{id}", f"suppliers/{supplier.pk}")
        .replace("purchase-orders/{id}", f"purchase-orders/{purchase_order.pk}")
        .replace("{merchant}", "acme")
        .replace("{id}", str(product.pk))
    )


def body_for(template: str, product, replenishing) -> dict:
    supplier, purchase_order = replenishing
    line = purchase_order.lines.get()
    bodies = {
        **BODIES,
        "/api/v1/purchase-orders/": {"supplier": supplier.pk, "lines": [{"product": product.pk, "quantity": 1}]},
        "/api/v1/purchase-orders/{id}/": {"note": "hijacked", "lines": [{"product": product.pk, "quantity": 1}]},
        "/api/v1/purchase-orders/{id}/receive/": {"lines": [{"line": line.pk, "quantity": 12}]},
        "/api/v1/products/{id}/inventory/": {"supplier": None, "pack_size": 1, "lead_time_days": 0},
    }
    return bodies.get(template, {})


BODIES = {
    "/api/v1/products/": {"sku": "ACME-1", "title": "Copy", "price": "1.00"},
    "/api/v1/products/bulk-upsert/": {"rows": [{"sku": "ACME-1", "title": "Copy", "price": "1.00", "stock": 0}]},
    "/api/v1/products/{id}/": {"sku": "ACME-1", "title": "Stolen", "price": "0.01", "is_active": False},
    "/api/v1/products/{id}/stock-adjustments/": {"delta": -5, "reason": "theft"},
    "/api/v1/categories/": {"name": "Hijacked", "slug": "hijacked"},
    "/api/v1/categories/{id}/": {"name": "Hijacked", "slug": "hijacked"},
    "/api/v1/suppliers/": {"name": "Acme Wholesale"},
    "/api/v1/suppliers/{id}/": {"name": "Hijacked", "lead_time_days": 90},
    "/api/v1/inventory-defaults/{merchant}/": {"lead_time_days": 90, "service_level": "0.5"},
}
# Collection endpoints answer for the caller's own merchant: they may succeed, but on the rival's data only.
OWN_COLLECTIONS = {
    ("GET", "/api/v1/products/"), ("GET", "/api/v1/orders/"), ("POST", "/api/v1/products/"),
    ("POST", "/api/v1/products/bulk-upsert/"), ("GET", "/api/v1/suppliers/"), ("POST", "/api/v1/suppliers/"),
    ("GET", "/api/v1/purchase-orders/"), ("GET", "/api/v1/forecasts/"), ("GET", "/api/v1/reorder-suggestions/"),
    ("GET", "/api/v1/inventory-defaults/"),
}
# Creating with our objects in the body: refused as unknown to the rival (400), nothing created.
REFUSED_INPUT = {("POST", "/api/v1/purchase-orders/")}
SHARED_READS = {("GET", "/api/v1/categories/"), ("GET", "/api/v1/categories/{id}/")}
CREATED = {("POST", "/api/v1/products/"), ("POST", "/api/v1/suppliers/")}  # 201 (the rival's own); other own collections: 200
# The category tree is shared: a merchant's key reads it but only staff write it (403); everything else of
# ours is not found (404) for the rival, never "forbidden", which would tell that it exists.
STAFF_ONLY_WRITES = {
    ("POST", "/api/v1/categories/"), ("PUT", "/api/v1/categories/{id}/"), ("PATCH", "/api/v1/categories/{id}/"),
    ("DELETE", "/api/v1/categories/{id}/"),
}


def test_foreign_key_walk_reaches_nothing(merchant, other_merchant, product, category, foreign_client, replenishing):
    order = make_order([(product, 2)])
    before = snapshot(merchant)
    operations = merchant_api_operations()
    # products (7), stock adjustments (2), reorder settings (3), categories (6), orders (2 + 5 actions),
    # suppliers (6), merchant defaults (4), purchase orders (6 + send + receive), forecasts (1), suggestions (1)
    assert len(operations) == 45, operations

    for method, template in operations:
        path = concrete(template, order, product, category, replenishing)
        response = foreign_client.generic(method, path, json.dumps(body_for(template, product, replenishing)),
                                          content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"walk {method} {path}")
        label = (method, template, response.status_code, response.content[:200])
        if (method, template) in OWN_COLLECTIONS:
            assert response.status_code == (201 if (method, template) in CREATED else 200), label
            if template == "/api/v1/inventory-defaults/":
                assert [row["merchant"] for row in response.json()["results"]] == ["rival"], label  # its own only
            elif method == "GET":
                assert response.json()["count"] == 0, label  # nothing of ours is listed
        elif (method, template) in SHARED_READS:
            assert response.status_code == 200, label
        elif (method, template) in STAFF_ONLY_WRITES:
            assert response.status_code == 403, label
            assert response.json()["error"]["code"] == "permission_denied", label
        elif (method, template) in REFUSED_INPUT:
            assert response.status_code == 400, label
            assert response.json()["error"]["fields"] == {"supplier": ["Unknown supplier."]}, label
        else:
            assert response.status_code == 404, label
            assert response.json()["error"] == {"code": "not_found", "message": response.json()["error"]["message"], "fields": {}}, label

    # What the rival created with our SKU or supplier name is theirs; nothing of ours changed.
    assert set(Product.objects.filter(sku="ACME-1").values_list("merchant__slug", flat=True)) == {"acme", "rival"}
    assert set(Supplier.objects.filter(name="Acme Wholesale").values_list("merchant__slug", flat=True)) == {"acme", "rival"}
    assert snapshot(merchant) == before
    assert Product.objects.get(pk=product.pk).stock == 5  # the receipt the rival tried booked nothing


def test_staff_sees_every_merchant(merchant, other_merchant, product):
    ProductFactory(merchant=other_merchant, price=Decimal("1.00"))
    client = APIClient()
    client.force_login(StaffFactory())
    assert client.get("/api/v1/products/").json()["count"] == 2


def test_orders_show_only_our_lines(merchant, other_merchant, product, client_w, foreign_client):
    theirs = ProductFactory(merchant=other_merchant, price=Decimal("4.00"), stock=3)
    order = make_order([(product, 2), (theirs, 1)])
    ours = client_w.get(f"/api/v1/orders/{order.number}/").json()
    assert [line["sku"] for line in ours["lines"]] == [product.sku]
    assert ours["merchant_total"] == "25.00"
    assert ours["shipping_address"]["postcode"] == "YO1 1AA"
    assert "email" not in ours and "total" not in ours
    rival = foreign_client.get(f"/api/v1/orders/{order.number}/").json()
    assert [line["sku"] for line in rival["lines"]] == [theirs.sku] and rival["merchant_total"] == "4.00"


@pytest.mark.parametrize("path", ["/api/v1/products/{id}/", "/api/v1/products/{id}/stock-adjustments/"])
def test_foreign_product_ids_are_not_found(product, foreign_client, path):
    response = foreign_client.get(path.replace("{id}", str(product.pk)))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- mixed orders: one order, lines of two merchants ---------------------------------------------------
def our_side(merchant) -> dict:
    """What of `merchant` a rival's action on a shared order could change."""
    return {
        "products": list(Product.objects.filter(merchant=merchant).order_by("pk").values()),
        "adjustments": list(StockAdjustment.objects.filter(product__merchant=merchant).order_by("pk").values()),
        "parts": list(OrderPart.objects.filter(merchant=merchant).order_by("pk").values()),
        "lines": list(OrderLine.objects.order_by("pk").values()),
        "history": list(OrderStatusChange.objects.exclude(merchant__slug="rival").order_by("pk").values()),
    }


@pytest.fixture
def mixed(merchant, other_merchant, product, checkout_order):
    theirs = ProductFactory(merchant=other_merchant, sku="RIVAL-1", price=Decimal("4.00"), stock=3)
    return checkout_order([(product, 2), (theirs, 1)]), theirs


@pytest.fixture
def checkout_order(db):
    """A real order through place_order (parts and all), from a basket of (product, quantity)."""
    from shop.models import Basket, BasketLine
    from shop.services.checkout import place_order
    from tests.factories import UserFactory

    def _place(lines):
        user = UserFactory(password=None)
        basket = Basket.objects.create(user=user)
        for product, quantity in lines:
            BasketLine.objects.create(basket=basket, product=product, quantity=quantity)
        return place_order(basket=basket, user=user, email=user.email, shipping_method="standard",
                           payment_method="pay_on_delivery",
                           address={"name": "Ada", "line1": "1 Road", "city": "Leeds", "postcode": "LS1",
                                    "country": "UK"})

    return _place


@pytest.mark.parametrize("route", [
    ["mark-paid", "ship", "deliver", "refund"],
    ["cancel"],
    ["mark-paid", "cancel"],
])
def test_a_rival_moving_a_mixed_order_changes_nothing_of_ours(merchant, mixed, foreign_client, route):
    order, theirs = mixed
    before = our_side(merchant)
    for step in route:
        response = foreign_client.post(f"/api/v1/orders/{order.number}/{step}/", {}, format="json")
        assert response.status_code == 200, (step, response.content)
        body = response.json()
        assert [line["sku"] for line in body["lines"]] == ["RIVAL-1"]
        assert body["parts"] == [{"merchant": "rival", "status": body["status"]}]

    assert our_side(merchant) == before
    order.refresh_from_db()
    ours = OrderPart.objects.get(order=order, merchant=merchant)
    assert ours.status == OrderStatus.PENDING
    assert order.status == OrderStatus.PENDING  # as far along as its least advanced part
    theirs.refresh_from_db()
    assert theirs.stock == (3 if route[-1] == "cancel" else 2)  # only the rival's own product is restocked


def test_each_merchant_moves_its_own_part_and_the_order_status_follows(merchant, mixed, client_w, foreign_client):
    order, theirs = mixed
    product = Product.objects.get(merchant=merchant)

    def order_status() -> str:
        return Order.objects.get(pk=order.pk).status

    assert client_w.post(f"/api/v1/orders/{order.number}/mark-paid/", {}, format="json").json()["status"] == "paid"
    assert order_status() == "pending"  # the rival's part is still pending
    assert client_w.post(f"/api/v1/orders/{order.number}/ship/", {}, format="json").json()["order_status"] == "pending"
    rival = foreign_client.post(f"/api/v1/orders/{order.number}/cancel/", {}, format="json").json()
    assert (rival["status"], rival["order_status"]) == ("cancelled", "shipped")
    assert order_status() == "shipped"
    # Our part is shipped: cancelling it is refused; the rival's cancel restocked only its product.
    refused = client_w.post(f"/api/v1/orders/{order.number}/cancel/", {}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "forbidden_transition"
    product.refresh_from_db()
    theirs.refresh_from_db()
    assert (product.stock, theirs.stock) == (3, 3)
    assert client_w.get("/api/v1/orders/?status=shipped").json()["count"] == 1
    assert foreign_client.get("/api/v1/orders/?status=shipped").json()["count"] == 0
    assert foreign_client.get("/api/v1/orders/?status=cancelled").json()["count"] == 1
    assert list(OrderStatusChange.objects.filter(order=order).values_list("merchant__slug", "from_status", "to_status")) == [
        (None, "", "pending"), ("acme", "pending", "paid"), ("acme", "paid", "shipped"), ("rival", "pending", "cancelled"),
    ]


def test_a_whole_order_cancel_restocks_every_part(mixed, merchant):
    from shop.services.orders import transition

    order, theirs = mixed
    transition(order, OrderStatus.CANCELLED, actor="test")
    assert set(OrderPart.objects.filter(order=order).values_list("status", flat=True)) == {"cancelled"}
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert dict(Product.objects.values_list("sku", "stock")) == {"ACME-1": 5, "RIVAL-1": 3}


# --- staff over the merchant API: Django model permissions, and the merchants they are linked to ---------
def _required(method: str, template: str) -> set[str]:
    """The model permissions a staff session needs for one operation of the merchant API."""
    model = template.split("/")[3][:-1]  # products -> product, categories -> categorie
    model = {"categorie": "category", "purchase-order": "purchaseorder",
             "inventory-default": "inventorydefaults"}.get(model, model)
    if template.startswith(("/api/v1/forecasts/", "/api/v1/reorder-suggestions/")):
        return {"shop.view_product"}  # as the admin's reorder list
    if template.endswith("/inventory/"):
        return {"shop.view_productinventory" if method == "GET" else "shop.change_productinventory"}
    if template.startswith("/api/v1/purchase-orders/{id}/") and method == "POST":
        return {"shop.change_purchaseorder"}
    if template.endswith("/bulk-upsert/"):
        return {"shop.add_product", "shop.change_product"}
    if template.endswith("/stock-adjustments/"):
        return {"shop.view_stockadjustment" if method == "GET" else "shop.add_stockadjustment"}
    if template.startswith("/api/v1/orders/{number}/") and method == "POST":
        return {"shop.change_order"}
    verb = {"GET": "view", "POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}[method]
    return {f"shop.{verb}_{model}"}


PERMISSIONS = [
    f"shop.{verb}_{model}" for model in ("product", "category", "supplier", "purchaseorder")
    for verb in ("view", "add", "change", "delete")
] + ["shop.view_order", "shop.change_order", "shop.view_stockadjustment", "shop.add_stockadjustment",
     "shop.view_productinventory", "shop.change_productinventory", "shop.view_inventorydefaults",
     "shop.change_inventorydefaults"]


def test_the_permission_table_covers_every_operation():
    needed = {perm for method, template in merchant_api_operations() for perm in _required(method, template)}
    assert needed == set(PERMISSIONS)


def _staff(*perms: str):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    user = UserFactory(is_staff=True, is_superuser=False, password=None)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def _walk(client, order, product, category, replenishing) -> dict[tuple[str, str], int]:
    statuses = {}
    for method, template in merchant_api_operations():
        path = concrete(template, order, product, category, replenishing)
        response = client.generic(method, path, json.dumps(body_for(template, product, replenishing)),
                                  content_type="application/json")
        statuses[(method, template)] = response.status_code
        if response.status_code == 403:
            assert set(response.json()["error"]) == {"code", "message", "fields"}
    return statuses


def test_staff_without_permissions_can_do_nothing(merchant, product, category, replenishing):
    order = make_order([(product, 2)])
    before = snapshot(merchant)
    client = APIClient()
    client.force_login(_staff())
    statuses = _walk(client, order, product, category, replenishing)
    assert set(statuses.values()) == {403}, statuses
    assert snapshot(merchant) == before
    assert "lacks the permission shop.view_product" in client.get("/api/v1/products/").json()["error"]["message"]


@pytest.mark.parametrize("perm", PERMISSIONS)
def test_staff_with_one_permission_can_do_just_that(merchant, product, category, replenishing, perm):
    order = make_order([(product, 2)])
    client = APIClient()
    client.force_login(_staff(perm))
    statuses = _walk(client, order, product, category, replenishing)
    allowed = {op for op, status in statuses.items() if status != 403}
    assert allowed == {op for op in statuses if _required(*op) == {perm}}, statuses


def test_staff_linked_to_a_merchant_sees_only_that_merchant(merchant, other_merchant, mixed):
    order, theirs = mixed
    ours = Product.objects.get(merchant=merchant)
    staff = _staff("shop.view_product", "shop.view_order", "shop.change_order", "shop.add_product")
    merchant.users.add(staff)
    client = APIClient()
    client.force_login(staff)

    assert [p["sku"] for p in client.get("/api/v1/products/").json()["results"]] == ["ACME-1"]
    assert client.get(f"/api/v1/products/{theirs.pk}/").status_code == 404
    detail = client.get(f"/api/v1/orders/{order.number}/").json()
    assert [line["sku"] for line in detail["lines"]] == ["ACME-1"]
    refused = client.post("/api/v1/products/", {"merchant": "rival", "sku": "X", "title": "X", "price": "1.00"},
                          format="json")
    assert refused.status_code == 400 and "merchant" in refused.json()["error"]["fields"]

    assert client.post(f"/api/v1/orders/{order.number}/cancel/", {}, format="json").status_code == 200
    assert dict(OrderPart.objects.filter(order=order).values_list("merchant__slug", "status")) == {
        "acme": "cancelled", "rival": "pending",
    }
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.stock, theirs.stock) == (5, 2)
    # A superuser (or staff linked to no merchant) still sees every merchant.
    everyone = APIClient()
    everyone.force_login(_staff("shop.view_product"))
    assert everyone.get("/api/v1/products/").json()["count"] == 2

AI_PATHS = ("/api/v1/events", "/api/v1/recommendations", "/api/v1/training-runs", "/api/v1/models")
AI_BODIES = {
    "/api/v1/events/": {"events": [{"event_type": "purchase", "user_id": 0, "product_id": 0, "visitor_id": "v"}]},
    "/api/v1/training-runs/": {"kind": "popularity", "options": {}},
    "/api/v1/models/rollback/": {"kind": "popularity"},
}


def ai_snapshot() -> dict:
    from ai.models import Event, ModelVersion, TrainingRun

    return {
        "events": list(Event.objects.order_by("pk").values()),
        "runs": list(TrainingRun.objects.order_by("pk").values("pk", "status", "cancel_requested")),
        "versions": list(ModelVersion.objects.order_by("pk").values("pk", "status")),
    }


@pytest.mark.parametrize("who", ["rival ai key", "staff without permissions"])
def test_ai_endpoint_walk_changes_nothing_and_reveals_no_shopper(who, merchant, other_merchant, product, foreign_client, db):
    """Every ai endpoint, walked by a rival merchant's `ai` key (no staff grants) and by a staff member without
    permissions: nothing is created, cancelled, promoted or rolled back; no personal list of our customer."""
    from ai.models import Event, ModelVersion, TrainingRun
    from shop.models import ApiKey
    from tests.factories import UserFactory

    customer = UserFactory()
    order = make_order([(product, 1)])
    order.user = customer
    order.save(update_fields=["user"])
    Event.objects.create(event_type="purchase", user=customer, product_id=product.pk, visitor_id="", created_at=order.placed_at)
    run = TrainingRun.objects.create(kind="popularity")
    version = ModelVersion.objects.create(kind="popularity", version=1, artifact_dir="x", checksums={})
    AI_BODIES["/api/v1/events/"]["events"][0].update(user_id=customer.pk, product_id=product.pk)
    if who == "rival ai key":
        ApiKey.objects.filter(pk=foreign_client.api_key.pk).update(scope=ApiKey.Scope.AI)
        caller = foreign_client
    else:
        caller = APIClient()
        caller.force_login(UserFactory(is_staff=True))
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = sorted(
        (method.upper(), path) for path, item in schema["paths"].items() if path.startswith(AI_PATHS)
        for method in item if method in {"get", "post", "put", "patch", "delete"}
    )
    assert len(operations) == 10, operations
    before = ai_snapshot()
    for method, template in operations:
        path = template.replace("training-runs/{id}", f"training-runs/{run.pk}").replace("{id}", str(version.pk))
        if template == "/api/v1/recommendations/":
            path += f"?placement=home&user={customer.pk}"
        response = caller.generic(method, path, json.dumps(AI_BODIES.get(template, {})), content_type="application/json")
        label = (who, method, template, response.status_code, response.content[:200])
        if who == "rival ai key" and method == "GET" and template.startswith(("/api/v1/training-runs", "/api/v1/models")):
            assert response.status_code == 200, label  # the shop's model registry is readable with the ai scope
            assert "worker" not in response.content.decode() and "artifact_dir" not in response.content.decode(), label
        elif who == "rival ai key" and template == "/api/v1/events/":
            # our customer is not theirs: the whole batch is refused, field by field
            assert response.status_code == 400, label
            assert response.json()["error"]["fields"]["events"]["0"]["user_id"] == [f"Not a customer of yours: {customer.pk}."], label
        else:
            assert response.status_code == 403, label
            assert response.json()["error"]["code"] == "permission_denied", label
    assert ai_snapshot() == before
