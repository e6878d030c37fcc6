"""The admin applies the API's merchant scope: a non-superuser staff member linked to merchants sees, chooses
and changes only those merchants' records; on a mixed order, the order actions move only their part."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from shop.models import Order, OrderPart, OrderStatus, Product, StockAdjustment
from shop.services import basket as baskets
from shop.services.api_keys import create_api_key
from shop.services.stock import adjust_stock
from tests.factories import CategoryFactory, ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

MODELS = ("merchant", "product", "order", "orderpart", "stockadjustment", "apikey")


@pytest.fixture
def shop(signed_in, checkout):
    """Merchants A and B, a product of each (stock 5), a mixed order of one of each (A's part and B's part)
    and an order of B's product only; a stock adjustment and an API key per merchant."""
    ours, theirs = ProductFactory(stock=6), ProductFactory(stock=6)
    for product in (ours, theirs):
        baskets.add_to_basket(signed_in.request(), product.pk, 1)
    mixed = checkout(baskets.get_basket(signed_in.request()), signed_in.user)
    baskets.add_to_basket(signed_in.request(), theirs.pk, 1)
    rival_only = checkout(baskets.get_basket(signed_in.request()), signed_in.user)
    for product in (ours, theirs):
        adjust_stock(product, 1, "found one")
        create_api_key(product.merchant, "read", f"key of {product.merchant.slug}")
    return {"ours": ours, "theirs": theirs, "a": ours.merchant, "b": theirs.merchant, "mixed": mixed, "rival_only": rival_only}


@pytest.fixture
def linked_staff(shop):
    """A non-superuser staff member linked to merchant A, with view and change permissions on the shop's models."""
    user = StaffFactory(is_superuser=False)
    codenames = [f"{verb}_{model}" for model in MODELS for verb in ("view", "change")] + ["add_product", "view_orderline"]
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="shop", codename__in=codenames))
    shop["a"].users.add(user)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(StaffFactory())
    return client


def _records(shop) -> dict[str, tuple]:
    """Per admin model: (merchant A's record, merchant B's record)."""
    a, b = shop["a"], shop["b"]
    return {
        "merchant": (a, b),
        "product": (shop["ours"], shop["theirs"]),
        "order": (shop["mixed"], shop["rival_only"]),
        "orderpart": (OrderPart.objects.get(order=shop["mixed"], merchant=a), OrderPart.objects.get(order=shop["rival_only"], merchant=b)),
        "stockadjustment": (StockAdjustment.objects.get(product=shop["ours"], reason="found one"),
                            StockAdjustment.objects.get(product=shop["theirs"], reason="found one")),
        "apikey": (a.api_keys.get(), b.api_keys.get()),
    }


def _act(client, model: str, action: str, objects):
    return client.post(
        reverse(f"admin:shop_{model}_changelist"), {"action": action, "_selected_action": [o.pk for o in objects]}, follow=True
    )


@pytest.mark.parametrize("model", MODELS)
def test_staff_linked_to_merchant_a_sees_only_a_in_the_admin(linked_staff, shop, model):
    ours, theirs = _records(shop)[model]

    changelist = linked_staff.get(reverse(f"admin:shop_{model}_changelist"))

    assert changelist.status_code == 200
    shown = set(changelist.context["cl"].result_list)
    assert ours in shown and theirs not in shown
    assert linked_staff.get(reverse(f"admin:shop_{model}_change", args=[ours.pk])).status_code == 200
    # Another merchant's record "does not exist" for them: redirected to the admin index, nothing shown.
    rival = linked_staff.get(reverse(f"admin:shop_{model}_change", args=[theirs.pk]))
    assert rival.status_code == 302 and rival.url == reverse("admin:index")


@pytest.mark.parametrize("model", MODELS)
def test_a_superuser_still_sees_every_merchant_in_the_admin(superuser_client, shop, model):
    ours, theirs = _records(shop)[model]
    shown = set(superuser_client.get(reverse(f"admin:shop_{model}_changelist")).context["cl"].result_list)
    assert {ours, theirs} <= shown
    assert superuser_client.get(reverse(f"admin:shop_{model}_change", args=[theirs.pk])).status_code == 200


def test_a_linked_staff_members_cancel_on_a_mixed_order_moves_only_their_part(linked_staff, shop):
    mixed = shop["mixed"]

    response = _act(linked_staff, "order", "mark_cancelled", [mixed])

    assert "1 order(s) marked cancelled." in [str(m) for m in get_messages(response.wsgi_request)]
    parts = dict(OrderPart.objects.filter(order=mixed).values_list("merchant_id", "status"))
    assert parts == {shop["a"].pk: OrderStatus.CANCELLED, shop["b"].pk: OrderStatus.PENDING}
    mixed.refresh_from_db()
    assert mixed.status == OrderStatus.PENDING  # derived: B's part is still in the pipeline
    # Only A's product was restocked (6 - 1 sold + 1 found + 1 back); B's keeps its two sales.
    stock = dict(Product.objects.values_list("pk", "stock"))
    assert (stock[shop["ours"].pk], stock[shop["theirs"].pk]) == (7, 5)
    change = mixed.status_changes.filter(to_status=OrderStatus.CANCELLED).get()
    assert change.merchant_id == shop["a"].pk


def test_a_linked_staff_member_cannot_act_on_a_rivals_order_or_part(linked_staff, shop):
    rival_part = OrderPart.objects.get(order=shop["rival_only"])
    mixed_rival_part = OrderPart.objects.get(order=shop["mixed"], merchant=shop["b"])

    _act(linked_staff, "order", "mark_cancelled", [shop["rival_only"]])
    _act(linked_staff, "orderpart", "mark_cancelled", [rival_part, mixed_rival_part])

    assert set(OrderPart.objects.filter(merchant=shop["b"]).values_list("status", flat=True)) == {OrderStatus.PENDING}
    assert Order.objects.get(pk=shop["rival_only"].pk).status == OrderStatus.PENDING
    assert Product.objects.get(pk=shop["theirs"].pk).stock == 5


def test_an_order_part_action_moves_that_part_only(superuser_client, shop):
    mixed = shop["mixed"]
    theirs = OrderPart.objects.get(order=mixed, merchant=shop["b"])

    response = _act(superuser_client, "orderpart", "mark_paid", [theirs])

    assert "1 order part(s) marked paid." in [str(m) for m in get_messages(response.wsgi_request)]
    parts = dict(OrderPart.objects.filter(order=mixed).values_list("merchant_id", "status"))
    assert parts == {shop["a"].pk: OrderStatus.PENDING, shop["b"].pk: OrderStatus.PAID}
    assert Order.objects.get(pk=mixed.pk).status == OrderStatus.PENDING


def test_a_superusers_order_action_still_moves_the_whole_order(superuser_client, shop):
    _act(superuser_client, "order", "mark_cancelled", [shop["mixed"]])

    assert set(OrderPart.objects.filter(order=shop["mixed"]).values_list("status", flat=True)) == {OrderStatus.CANCELLED}
    assert Order.objects.get(pk=shop["mixed"].pk).status == OrderStatus.CANCELLED
    stock = dict(Product.objects.values_list("pk", "stock"))
    assert (stock[shop["ours"].pk], stock[shop["theirs"].pk]) == (7, 6)


def test_a_linked_staff_member_sees_only_their_lines_of_a_mixed_order(linked_staff, shop):
    response = linked_staff.get(reverse("admin:shop_order_change", args=[shop["mixed"].pk]))

    formsets = {f.opts.model.__name__: f for f in response.context["inline_admin_formsets"]}
    assert [form.original.product for form in formsets["OrderLine"]] == [shop["ours"]]
    assert [form.original.merchant for form in formsets["OrderPart"]] == [shop["a"]]


def test_a_linked_staff_member_cannot_give_a_product_to_another_merchant(linked_staff, shop):
    category = CategoryFactory()
    data = {"title": "Teapot", "slug": "teapot", "sku": "TP-1", "merchant": shop["b"].pk, "category": category.pk,
            "price": "10.00", "stock": 3, "is_active": "on", "description": ""}

    response = linked_staff.post(reverse("admin:shop_product_add"), data)

    assert response.status_code == 200
    assert "merchant" in response.context["adminform"].form.errors
    assert not Product.objects.filter(sku="TP-1").exists()
    form = linked_staff.get(reverse("admin:shop_product_add")).context["adminform"].form
    assert list(form.fields["merchant"].queryset) == [shop["a"]]


def test_a_mixed_orders_amounts_are_shown_only_to_shop_wide_staff(shop, linked_staff, superuser_client):
    """The order's subtotal and total include the other merchant's lines: a linked staff member sees neither,
    on the order page or in the order list; a superuser sees both."""
    page = f"/admin/shop/order/{shop['mixed'].pk}/change/"
    ours = linked_staff.get(page).content.decode()
    assert linked_staff.get(page).status_code == 200
    assert "field-total" not in ours and "field-subtotal" not in ours
    assert "column-total" not in linked_staff.get("/admin/shop/order/").content.decode()
    everything = superuser_client.get(page).content.decode()
    assert "field-total" in everything and "field-subtotal" in everything
    assert "column-total" in superuser_client.get("/admin/shop/order/").content.decode()


def test_linked_staff_can_neither_list_every_account_nor_change_who_works_for_their_merchant(shop, linked_staff):
    outsider = StaffFactory(is_superuser=False, username="someone-of-merchant-b")
    shop["b"].users.add(outsider)
    url = reverse("admin:shop_merchant_change", args=[shop["a"].pk])
    page = linked_staff.get(url).content.decode()
    assert "someone-of-merchant-b" not in page  # the user picker, which listed every account, is gone
    linked_staff.post(url, {"name": shop["a"].name, "slug": shop["a"].slug, "users": [outsider.pk]})
    assert outsider not in shop["a"].users.all()
    assert shop["a"].users.count() == 1


def test_the_superuser_still_links_staff_to_merchants(shop, superuser_client):
    someone = StaffFactory(is_superuser=False, username="new-hire")
    url = reverse("admin:shop_merchant_change", args=[shop["a"].pk])
    assert "new-hire" in superuser_client.get(url).content.decode()
    response = superuser_client.post(url, {"name": shop["a"].name, "slug": shop["a"].slug, "users": [someone.pk]})
    assert response.status_code == 302
    assert list(shop["a"].users.all()) == [someone]
