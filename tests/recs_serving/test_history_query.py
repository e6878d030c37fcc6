"""The shopper's history query: compiled by the ORM once, then run with each shopper's id."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ai.models import Event
from ai.recs import history
from tests.factories import UserFactory

from .conftest import add_events


@pytest.fixture
def shoppers(db):
    """Two visitors and a customer with interleaved events, ties on created_at, events without a
    product and event types that are not history."""
    user = UserFactory()
    start = timezone.now() - timedelta(hours=2)
    add_events("anna", [11, 12, 13, 12], start=start)
    add_events("anna", [14], event_type="purchase", start=start + timedelta(minutes=7))
    add_events("anna", [15, 16], event_type="add_to_cart", start=start, step_minutes=0)  # same moment
    add_events("anna", [17], event_type="rec_click", start=start + timedelta(minutes=1))
    Event.objects.create(event_type="view", visitor_id="anna", product_id=None, created_at=start)
    add_events("bert", [21, 22], start=start)
    add_events("web-9", [31, 32, 33], user=user, start=start)
    add_events("web-9", [34], event_type="purchase", user=user, start=start + timedelta(minutes=30))
    return user


@pytest.mark.parametrize("limit", [2, history.FETCHED_EVENTS])
def test_the_compiled_query_returns_what_the_queryset_returns(shoppers, limit):
    for column, value in (("visitor_id", "anna"), ("visitor_id", "bert"), ("visitor_id", "nobody"),
                          ("user_id", shoppers.pk), ("user_id", shoppers.pk + 1000)):
        expected = list(history.history_queryset([value], column, limit))
        assert history._history_rows.rows([value], column, limit) == expected
        assert history._history_rows.rows([value], column, limit) == expected  # the second time compiled


def test_one_query_with_the_shoppers_own_parameter(shoppers):
    """The SQL run is the queryset's own, with this shopper in it (not the placeholder, not the shopper
    of the call that compiled it)."""
    history.recent_history(user_id=None, visitor_id="bert")  # compiles it
    with CaptureQueriesContext(connection) as orm:
        list(history.history_queryset(["anna"], "visitor_id", history.FETCHED_EVENTS))
    with CaptureQueriesContext(connection) as compiled:
        anna = history.recent_history(user_id=None, visitor_id="anna")
    assert [q["sql"] for q in compiled.captured_queries] == [q["sql"] for q in orm.captured_queries]
    assert anna.products == [11, 15, 16, 12, 14, 13, 12]
    assert anna.purchases == [14]
    with CaptureQueriesContext(connection) as by_user:
        customer = history.recent_history(user_id=shoppers.pk, visitor_id="web-9")
    assert len(by_user.captured_queries) == 1
    assert (customer.products, customer.purchases) == ([31, 32, 33, 34], [34])
    assert not history.recent_history(user_id=None, visitor_id=None)
