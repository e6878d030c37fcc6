"""Oscar's own signals feed ai.tracking: a product page view, a basket addition, a sign-in and a placed
order each become ai events, through the receivers in oscar_shop/receivers.py."""
from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from ai.models import Event


def test_opening_a_product_page_records_a_view_for_the_visitor(client, catalogue):
    product = catalogue[2]
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    visitor_id = client.cookies["aisle_vid"].value
    assert list(Event.objects.values_list("event_type", "product_id", "visitor_id", "user_id")) == [
        ("view", product.pk, visitor_id, None)
    ]


def test_adding_to_the_oscar_basket_records_an_addition(client, catalogue):
    product = catalogue[3]
    response = client.post(reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 2})
    assert response.status_code == 302
    assert list(Event.objects.values_list("event_type", "product_id")) == [("add_to_cart", product.pk)]


def test_signing_in_joins_the_visitors_earlier_events_to_the_account(client, catalogue, customers):
    customer = customers[0]
    customer.set_password("a-long-password-1")
    customer.save()
    client.get(catalogue[0].get_absolute_url())
    assert Event.objects.get().user_id is None
    response = client.post(
        reverse("customer:login"),
        {"login-username": customer.email, "login-password": "a-long-password-1", "login_submit": "1"},
    )
    assert response.status_code == 302
    assert Event.objects.get().user_id == customer.pk


def test_a_placed_order_records_one_purchase_per_line_after_commit(
    catalogue, customers, order_for, django_capture_on_commit_callbacks
):
    customer = customers[1]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = order_for(customer, [catalogue[0], catalogue[1], catalogue[1]])
    assert not Event.objects.exists()  # nothing before the order commits
    for callback in callbacks:
        callback()
    purchases = Event.objects.filter(event_type="purchase").order_by("product_id")
    assert [(e.product_id, e.user_id, e.extra["quantity"], e.extra["unit_price"], e.extra["order_id"]) for e in purchases] == [
        (catalogue[0].pk, customer.pk, 1, "24.00", order.pk),
        (catalogue[1].pk, customer.pk, 2, "18.50", order.pk),
    ]
    assert {e.created_at for e in purchases} == {order.date_placed}
    assert sum(Decimal(e.extra["unit_price"]) * e.extra["quantity"] for e in purchases) == order.total_incl_tax
