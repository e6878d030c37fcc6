"""Privacy at checkout and sign-out (issue 11, item 15): opted-out shoppers' purchases are not recorded (and
not backfilled later), signing out gives the browser a new visitor id, events never store the session key."""
from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from ai.models import Event
from ai.tracking import backfill_purchase_events
from shop.models import Order

from .test_checkout_views import ADDRESS, add  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)  # the purchase is recorded after the commit


@pytest.mark.parametrize("signal", ["cookie", "dnt", "gpc"])
def test_an_opted_out_shoppers_purchase_is_not_recorded_nor_backfilled(client, product, user, signal):
    client.force_login(user)  # signed in: the purchase would otherwise be recorded for the account
    headers = {}
    if signal == "cookie":
        client.cookies["aisle_optout"] = "1"
    else:
        headers = {"HTTP_DNT": "1"} if signal == "dnt" else {"HTTP_SEC_GPC": "1"}
    client.post(reverse("shop:basket_add"), {"product_id": product.pk, "quantity": 2}, **headers)
    response = client.post(reverse("shop:checkout"), {**ADDRESS, "email": user.email}, **headers)
    assert response.status_code == 302
    order = Order.objects.get()
    assert not Event.objects.filter(event_type="purchase").exists()
    assert list(Event.objects.values_list("event_type", "user_id", "visitor_id", "product_id")) == [("opted_out", None, "", None)]

    assert backfill_purchase_events(progress=False) == 0
    assert not Event.objects.filter(event_type="purchase").exists()
    assert Event.objects.get().extra == {"order_id": order.pk}


def test_a_tracked_shoppers_purchase_is_recorded(client, product, user):
    client.force_login(user)
    add(client, product)
    client.post(reverse("shop:checkout"), {**ADDRESS, "email": user.email})
    assert Event.objects.filter(event_type="purchase", user=user, product_id=product.pk).count() == 1


def test_signing_out_gives_the_browser_a_new_visitor_id(client, user):
    old = uuid.uuid4().hex
    client.cookies["aisle_vid"] = old
    client.force_login(user)
    response = client.post(reverse("shop:logout"))
    new = response.cookies["aisle_vid"].value
    assert new and new != old and uuid.UUID(new)
    # The next page keeps the new id: nothing of the account's history is reachable from it.
    assert client.cookies["aisle_vid"].value == new


def test_signing_out_an_opted_out_browser_sets_no_visitor_cookie(client, user):
    client.cookies["aisle_optout"] = "1"
    client.force_login(user)
    response = client.post(reverse("shop:logout"))
    assert "aisle_vid" not in response.cookies


def test_events_never_store_the_session_key(client, product):
    assert "session_key" not in {field.name for field in Event._meta.get_fields()}
    client.get(product.get_absolute_url())
    assert Event.objects.filter(event_type="view").exists()
