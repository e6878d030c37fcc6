"""The backfill inserts rows without model instances, and stores exactly what the ORM would store."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from ai import tracking
from ai.adapter import OrderLineInfo
from ai.models import Event
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def stored(event: Event) -> dict:
    row = model_to_dict(Event.objects.get(pk=event.pk), exclude=["id"])
    return {**row, "created_at": Event.objects.get(pk=event.pk).created_at}


@pytest.mark.parametrize("user", [True, False])
def test_a_backfilled_event_is_stored_as_the_orm_stores_it(fake_orders, user):
    shopper = UserFactory() if user else None
    placed = datetime(2011, 3, 4, 9, 30, 15, 123456, tzinfo=UTC)
    fake_orders.append(OrderLineInfo(
        order_id=41, user_id=shopper and shopper.pk, product_id=7, quantity=3, unit_price=Decimal("2.1"),
        placed_at=placed, cancelled=False,
    ))
    assert tracking.backfill_purchase_events(progress=False) == 1
    backfilled = Event.objects.get()
    # The same purchase through the ORM, as checkout's record_purchase builds it.
    orm = tracking._purchase_event(
        order_id=41, user_id=shopper and shopper.pk, visitor_id=tracking._purchase_visitor_id("", shopper and shopper.pk, 41),
        product_id=7, quantity=3, unit_price=Decimal("2.1"), placed_at=placed,
    )
    orm.save()
    assert stored(backfilled) == stored(orm)
    assert stored(backfilled) == {
        "event_type": "purchase", "visitor_id": "" if user else "order-41", "user": shopper and shopper.pk,
        "product_id": 7, "query": "", "placement": "", "model_version": None, "source": "", "shop_wide": True,
        "extra": {"order_id": 41, "quantity": 3, "unit_price": "2.1"}, "created_at": placed,
    }
    # Lookups into the JSON work on the inserted rows as on the ORM's.
    assert Event.objects.filter(extra__order_id=41).count() == 2


def test_the_backfill_inserts_in_batches(fake_orders):
    fake_orders += [
        OrderLineInfo(order_id=n, user_id=None, product_id=100 + n, quantity=1, unit_price=Decimal("1.00"),
                      placed_at=datetime(2011, 1, 1 + n % 28, tzinfo=UTC), cancelled=False)
        for n in range(1, 26)
    ]
    assert tracking.backfill_purchase_events(progress=False, batch_size=10) == 25
    assert sorted(Event.objects.values_list("product_id", flat=True)) == list(range(101, 126))
    assert tracking.backfill_purchase_events(progress=False, batch_size=10) == 0
