"""Orders: the merchant's view, filters, and status actions through the order pipeline."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from shop.models import Order, OrderStatusChange
from tests.api.conftest import make_order
from tests.factories import ProductFactory


def test_list_filters_by_status_and_date(client_r, merchant, product):
    make_order([(product, 1)], number="OLD", status="delivered")
    Order.objects.filter(number="OLD").update(placed_at=timezone.now() - timedelta(days=10))
    make_order([(product, 1)], number="NEW", status="paid")
    make_order([(ProductFactory(), 1)], number="NOT-OURS")
    numbers = lambda q: [o["number"] for o in client_r.get(f"/api/v1/orders/?{q}").json()["results"]]  # noqa: E731
    assert numbers("") == ["NEW", "OLD"]
    assert numbers("status=paid") == ["NEW"]
    assert numbers("status=paid&status=delivered") == ["NEW", "OLD"]
    cutoff = (timezone.now() - timedelta(days=1)).isoformat().replace("+", "%2B")
    assert numbers(f"placed_after={cutoff}") == ["NEW"]
    assert numbers(f"placed_before={cutoff}") == ["OLD"]


@pytest.mark.parametrize("steps,final", [
    (["mark-paid", "ship", "deliver"], "delivered"),
    (["mark-paid", "refund"], "refunded"),
    (["cancel"], "cancelled"),
])
def test_actions_follow_the_pipeline(client_w, product, steps, final):
    order = make_order([(product, 2)])
    for step in steps:
        response = client_w.post(f"/api/v1/orders/{order.number}/{step}/", {"note": f"via {step}"}, format="json")
        assert response.status_code == 200, response.content
    assert response.json()["status"] == final
    history = OrderStatusChange.objects.filter(order=order).order_by("pk")
    assert history.last().to_status == final
    assert client_w.api_key.prefix in history.last().actor


def test_cancel_puts_stock_back(client_w, product):
    order = make_order([(product, 2)])
    client_w.post(f"/api/v1/orders/{order.number}/cancel/", {}, format="json")
    product.refresh_from_db()
    assert product.stock == 7


@pytest.mark.parametrize("status,action", [("pending", "ship"), ("delivered", "cancel"), ("cancelled", "mark-paid"),
                                           ("refunded", "refund")])
def test_forbidden_transitions_are_409(client_w, product, status, action):
    order = make_order([(product, 1)], status=status)
    response = client_w.post(f"/api/v1/orders/{order.number}/{action}/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "forbidden_transition"
    order.refresh_from_db()
    assert order.status == status


def test_action_note_is_validated(client_w, product):
    order = make_order([(product, 1)])
    response = client_w.post(f"/api/v1/orders/{order.number}/mark-paid/", {"note": "n" * 501}, format="json")
    assert response.status_code == 400 and "note" in response.json()["error"]["fields"]
    order.refresh_from_db()
    assert order.status == "pending"
