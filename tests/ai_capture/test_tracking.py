from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from ai import tracking
from ai.adapter import OrderLineInfo
from ai.models import Event, EventType
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VISITOR_COOKIE = "aisle_vid"
OPT_OUT_COOKIE = "aisle_optout"


def test_record_stores_one_event_and_sets_the_visitor_cookie(through_middleware):
    request, response = through_middleware(lambda r: tracking.record(r, "view", product_id=42))

    event = Event.objects.get()
    assert (event.event_type, event.product_id, event.user_id) == ("view", 42, None)
    assert event.visitor_id == request.visitor_id
    assert response.cookies[VISITOR_COOKIE].value == request.visitor_id
    assert response.cookies[VISITOR_COOKIE]["httponly"]


def test_api_clients_get_no_visitor_cookie(through_middleware):
    _, response = through_middleware(lambda r: None, headers={"Authorization": "Bearer ak_something"})
    assert VISITOR_COOKIE not in response.cookies


def test_record_keeps_an_existing_visitor_id_and_the_signed_in_user(through_middleware):
    user = UserFactory()
    visitor = uuid.uuid4().hex
    _, response = through_middleware(
        lambda r: tracking.record(r, "search", query="mug " * 100, placement="x" * 100),
        cookies={VISITOR_COOKIE: visitor},
        user=user,
    )

    event = Event.objects.get()
    assert (event.visitor_id, event.user_id) == (visitor, user.pk)
    assert len(event.query) == 200 and len(event.placement) == 64
    assert VISITOR_COOKIE not in response.cookies  # already had one


def test_record_strips_nul_characters_that_postgres_cannot_store(through_middleware):
    through_middleware(lambda r: tracking.record(r, "search", query="tea\x00pot"))
    assert Event.objects.get().query == "teapot"


@pytest.mark.parametrize(
    "cookies, headers",
    [
        ({OPT_OUT_COOKIE: "1"}, {}),
        ({}, {"DNT": "1"}),
        ({}, {"Sec-GPC": "1"}),
    ],
    ids=["opt-out-cookie", "do-not-track", "global-privacy-control"],
)
def test_opted_out_visitors_are_not_recorded_and_get_no_cookie(through_middleware, cookies, headers):
    request, response = through_middleware(
        lambda r: tracking.record(r, "view", product_id=1), cookies=cookies, headers=headers
    )

    assert request.ai_tracking is False
    assert Event.objects.count() == 0
    assert VISITOR_COOKIE not in response.cookies


@override_settings(AI_TRACKING_ENABLED=False)
def test_tracking_switched_off_for_the_shop_records_nothing(through_middleware):
    through_middleware(lambda r: tracking.record(r, "view", product_id=1))
    assert Event.objects.count() == 0


@pytest.mark.parametrize("event_type, stored", [("view", True), ("wishlist_add", True), ("Bad-Type", False), ("x" * 33, False), ("", False)])
def test_record_accepts_known_and_well_formed_types_only(through_middleware, event_type, stored):
    through_middleware(lambda r: tracking.record(r, event_type))
    assert Event.objects.filter(event_type=event_type).exists() is stored


def test_record_never_raises_into_the_page(through_middleware, caplog):
    with (
        mock.patch.object(Event, "save", side_effect=RuntimeError("database down")),
        caplog.at_level(logging.ERROR, logger="ai.tracking"),
    ):
        through_middleware(lambda r: tracking.record(r, "view", product_id=1))
    assert "could not record" in caplog.text


def test_a_failed_record_does_not_break_the_pages_transaction(through_middleware):
    user = UserFactory()

    def view(request):
        with transaction.atomic():
            # A real database error (NOT NULL violated): on PostgreSQL it would abort the whole transaction.
            with mock.patch.object(tracking, "timezone", SimpleNamespace(now=lambda: None)):
                tracking.record(request, "view", product_id=1)
            # The page's own work in the same transaction still goes through.
            user.first_name = "Still"
            user.save()

    through_middleware(view)
    user.refresh_from_db()
    assert user.first_name == "Still"


def test_record_drops_an_unknown_model_version_instead_of_failing_later(through_middleware):
    through_middleware(lambda r: tracking.record(r, "rec_click", product_id=3, placement="home", model_version_id=999_999))
    assert Event.objects.get().model_version_id is None


def test_sign_in_joins_the_anonymous_history_to_the_account(through_middleware):
    user, other = UserFactory(), UserFactory()
    visitor = uuid.uuid4().hex
    for product_id in (1, 2):
        through_middleware(lambda r, p=product_id: tracking.record(r, "view", product_id=p), cookies={VISITOR_COOKIE: visitor})
    through_middleware(lambda r: tracking.record(r, "view", product_id=9), cookies={VISITOR_COOKIE: uuid.uuid4().hex})
    # An event of this browser that already belongs to another account stays with that account.
    through_middleware(lambda r: tracking.record(r, "view", product_id=5), cookies={VISITOR_COOKIE: visitor}, user=other)

    joined = []
    through_middleware(lambda r: joined.append(tracking.identify(r, user)), cookies={VISITOR_COOKIE: visitor})

    assert joined == [2]
    assert sorted(Event.objects.filter(user=user).values_list("product_id", flat=True)) == [1, 2]
    assert list(Event.objects.filter(user=other).values_list("product_id", flat=True)) == [5]
    assert Event.objects.get(product_id=9).user_id is None


def test_identify_does_nothing_for_an_opted_out_visitor(through_middleware):
    visitor = uuid.uuid4().hex
    through_middleware(lambda r: tracking.record(r, "view", product_id=1), cookies={VISITOR_COOKIE: visitor})
    user = UserFactory()
    through_middleware(lambda r: tracking.identify(r, user), cookies={VISITOR_COOKIE: visitor, OPT_OUT_COOKIE: "1"})
    assert Event.objects.get().user_id is None


def test_deleting_an_account_deletes_its_events(through_middleware):
    user, other = UserFactory(), UserFactory()
    through_middleware(lambda r: tracking.record(r, "view", product_id=1), user=user)
    through_middleware(lambda r: tracking.record(r, "view", product_id=2), user=other)
    tracking.record_purchase(order_id=1, user_id=user.pk, visitor_id="", lines=[(1, 1, Decimal("2.50"))])

    user.delete()

    assert list(Event.objects.values_list("user_id", flat=True)) == [other.pk]


def test_record_purchase_stores_one_event_per_line():
    user = UserFactory()
    placed = timezone.now() - timedelta(hours=1)
    stored = tracking.record_purchase(
        order_id=77, user_id=user.pk, visitor_id="v1", placed_at=placed,
        lines=[(10, 2, Decimal("3.50")), (11, 1, Decimal("12.00"))],
    )

    assert stored == 2
    events = list(Event.objects.order_by("product_id"))
    assert [(e.event_type, e.product_id, e.user_id, e.visitor_id, e.created_at) for e in events] == [
        ("purchase", 10, user.pk, "v1", placed),
        ("purchase", 11, user.pk, "v1", placed),
    ]
    assert events[0].extra == {"order_id": 77, "quantity": 2, "unit_price": "3.50"}


def test_a_guest_purchase_without_a_browser_is_keyed_by_its_order():
    tracking.record_purchase(order_id=5, user_id=None, visitor_id=None, lines=[(1, 1, "1.00")])
    assert Event.objects.get().visitor_id == "order-5"


def _line(order_id, product_id, *, user_id=None, day=1, cancelled=False, quantity=1):
    return OrderLineInfo(
        order_id=order_id, user_id=user_id, product_id=product_id, quantity=quantity, unit_price=Decimal("2.10"),
        placed_at=datetime(2011, 1, day, 9, 30, tzinfo=UTC), cancelled=cancelled,
    )


def test_backfill_turns_order_lines_into_purchase_events_once(fake_orders):
    user = UserFactory()
    fake_orders += [
        _line(1, 10, user_id=user.pk, day=1, quantity=6),
        _line(1, 11, user_id=user.pk, day=1),
        _line(2, 10, day=2),
        _line(3, 12, day=3, cancelled=True),
    ]
    # Order 1 was already recorded live at checkout: the backfill must not duplicate it.
    tracking.record_purchase(order_id=1, user_id=user.pk, visitor_id="v", lines=[(10, 6, "2.10"), (11, 1, "2.10")])

    assert tracking.backfill_purchase_events(progress=False) == 1
    assert tracking.backfill_purchase_events(progress=False) == 0

    guest = Event.objects.get(extra__order_id=2)
    assert (guest.product_id, guest.visitor_id, guest.user_id) == (10, "order-2", None)
    assert guest.created_at == datetime(2011, 1, 2, 9, 30, tzinfo=UTC)
    assert Event.objects.count() == 3
    assert not Event.objects.filter(extra__order_id=3).exists()  # cancelled


def test_backfill_command_reports_the_count_and_is_idempotent(fake_orders, capsys):
    fake_orders += [_line(order_id, 100 + order_id, day=order_id) for order_id in range(1, 8)]

    call_command("ai_backfill_events", "--no-progress")
    call_command("ai_backfill_events", "--no-progress")

    out = capsys.readouterr().out
    assert "Created 7 purchase event(s)." in out and "Created 0 purchase event(s)." in out
    assert Event.objects.filter(event_type=EventType.PURCHASE).count() == 7


def test_backfill_through_the_shop_adapter_reads_real_orders():
    from tests.ai_capture.shop_orders import make_order

    user = UserFactory()
    order = make_order(user=user, quantities=(2, 3))
    cancelled = make_order(user=None, quantities=(1,), status="cancelled")

    assert tracking.backfill_purchase_events(progress=False) == 2
    events = Event.objects.filter(event_type="purchase")
    assert {e.extra["order_id"] for e in events} == {order.pk}
    assert sorted(e.extra["quantity"] for e in events) == [2, 3]
    assert all(e.user_id == user.pk and e.created_at == order.placed_at for e in events)
    assert not Event.objects.filter(extra__order_id=cancelled.pk).exists()


def _event(days_ago: int, **kwargs) -> Event:
    return Event.objects.create(
        event_type="view", visitor_id="v", product_id=1, created_at=timezone.now() - timedelta(days=days_ago), **kwargs
    )


def test_purge_deletes_events_older_than_the_given_days(capsys):
    old, recent = _event(40), _event(10)

    call_command("ai_purge_events", "--older-than", "30")

    assert list(Event.objects.values_list("pk", flat=True)) == [recent.pk]
    assert "Deleted 1 event(s) older than 30 day(s)" in capsys.readouterr().out
    assert not Event.objects.filter(pk=old.pk).exists()


def test_purge_dry_run_deletes_nothing(capsys):
    _event(40)
    call_command("ai_purge_events", "--older-than", "30", "--dry-run")
    assert Event.objects.count() == 1
    assert "1 event(s) older than 30 day(s) would be deleted" in capsys.readouterr().out


@pytest.mark.parametrize("value, message", [("abc", "whole number of days"), ("0", "at least 1 day"), ("-3", "at least 1 day")])
def test_purge_rejects_bad_input_readably(value, message):
    _event(40)
    with pytest.raises(CommandError, match=message):
        call_command("ai_purge_events", "--older-than", value)
    assert Event.objects.count() == 1


def _synchronous_commit() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_event_writes_commit_asynchronously_on_postgres_but_never_change_the_pages_transaction(require_postgres):
    seen = {}
    with tracking.event_transaction():
        seen["own"] = _synchronous_commit()
    with transaction.atomic():
        with tracking.event_transaction():
            seen["inside_page"] = _synchronous_commit()
        seen["page_after"] = _synchronous_commit()
    seen["after"] = _synchronous_commit()
    with override_settings(AI_TRACKING_ASYNC_COMMIT=False), tracking.event_transaction():
        seen["switched_off"] = _synchronous_commit()

    assert seen == {"own": "off", "inside_page": "on", "page_after": "on", "after": "on", "switched_off": "on"}
