"""Behaviour capture: the explicit calls through which a shop records what its shoppers do.

The host shop calls these from its views and services (no signals):

- `record(request, "view", product_id=…)` on a page: one INSERT, nothing slow, never raises into the page;
  a no-op when the visitor opted out (`request.ai_tracking`, set by `ai.middleware.VisitorMiddleware`).
- `identify(request, user)` at sign-in: the visitor's earlier anonymous events join the account.
- `record_purchase(...)` after an order commits: one `purchase` event per order line.
- `backfill_purchase_events()` turns the shop's stored orders (through the adapter) into purchase events
  with their real times, once per order.
- `record_events_bulk(rows)` stores already validated rows in one transaction (the batch API uses it).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from .conf import ai_settings
from .middleware import tracking_allowed, valid_visitor_id
from .models import Event, EventType, ModelVersion

logger = logging.getLogger(__name__)

# Known types are EventType's values; a shop may add its own names of this shape without a migration.
EVENT_NAME_RE = re.compile(r"^[a-z_]{1,32}$")
KNOWN_EVENT_TYPES = frozenset(EventType.values)


def event_text_length(name: str) -> int:
    """The max_length of one of Event's text columns."""
    length = getattr(Event._meta.get_field(name), "max_length", None)
    if not isinstance(length, int):
        raise TypeError(f"Event.{name} has no max_length")
    return length


QUERY_MAX_LENGTH = event_text_length("query")
PLACEMENT_MAX_LENGTH = event_text_length("placement")
VISITOR_ID_MAX_LENGTH = event_text_length("visitor_id")
BULK_BATCH_SIZE = 2000


def is_valid_event_type(event_type: Any) -> bool:
    return isinstance(event_type, str) and (event_type in KNOWN_EVENT_TYPES or bool(EVENT_NAME_RE.match(event_type)))


def visitor_id_for(request: HttpRequest) -> str:
    """The request's first-party visitor id (set by the middleware; read from the cookie without it)."""
    visitor_id = getattr(request, "visitor_id", None)
    if visitor_id:
        return visitor_id
    cookie = request.COOKIES.get(ai_settings.VISITOR_COOKIE, "")
    return cookie if valid_visitor_id(cookie) else ""


def is_tracking(request: HttpRequest) -> bool:
    allowed = getattr(request, "ai_tracking", None)
    return tracking_allowed(request) if allowed is None else bool(allowed)


def _request_user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


@contextmanager
def event_transaction() -> Iterator[None]:
    """A transaction (or, inside the caller's, a savepoint) for writing events.

    The savepoint keeps a failed INSERT from poisoning the page's own transaction. A transaction of our
    own commits asynchronously on PostgreSQL (AI_TRACKING_ASYNC_COMMIT) so that it does not wait for an fsync.
    """
    outer = connection.in_atomic_block
    with transaction.atomic():
        if not outer and connection.vendor == "postgresql" and ai_settings.TRACKING_ASYNC_COMMIT:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield


def _clean_text(value: str | None, max_length: int) -> str:
    # Text columns on PostgreSQL cannot hold NUL characters; a query typed into a URL can carry one.
    return (value or "").replace("\x00", "")[:max_length]


def _insert(event: Event) -> None:
    with event_transaction():
        event.save(force_insert=True)


def record(
    request: HttpRequest,
    event_type: str,
    *,
    product_id: int | None = None,
    query: str = "",
    placement: str = "",
    model_version_id: int | None = None,
    extra: dict | None = None,
) -> None:
    """Record one event for this request's visitor. Cheap (one INSERT) and never raises into the page."""
    try:
        if not is_tracking(request):
            return
        if not is_valid_event_type(event_type):
            logger.warning("ai.tracking: ignored event with invalid type %r", event_type)
            return
        user_id = _request_user_id(request)
        visitor_id = visitor_id_for(request)
        if not visitor_id and user_id is None:
            logger.warning("ai.tracking: ignored %s event without a visitor id (is VisitorMiddleware installed?)", event_type)
            return
        if extra is not None and not isinstance(extra, dict):
            logger.warning("ai.tracking: ignored non-dict extra for %s event", event_type)
            extra = None
        if model_version_id is not None and not ModelVersion.objects.filter(pk=model_version_id).exists():
            # A stale id would only fail at commit time on PostgreSQL (deferred FK), inside the page.
            model_version_id = None
        _insert(
            Event(
                event_type=event_type,
                visitor_id=visitor_id,
                user_id=user_id,
                product_id=int(product_id) if product_id is not None else None,
                query=_clean_text(query, QUERY_MAX_LENGTH),
                placement=_clean_text(placement, PLACEMENT_MAX_LENGTH),
                model_version_id=model_version_id,
                extra=extra or {},
                created_at=timezone.now(),
            )
        )
    except Exception:  # noqa: BLE001 - tracking must never break a page
        logger.exception("ai.tracking: could not record %r event", event_type)


def identify(request: HttpRequest, user) -> int:
    """Join this visitor's earlier anonymous events to `user` (called by the shop at sign-in).

    Returns the number of events joined. Never raises into the page.
    """
    try:
        if user is None or not getattr(user, "pk", None) or not is_tracking(request):
            return 0
        visitor_id = visitor_id_for(request)
        if not visitor_id:
            return 0
        return Event.objects.filter(visitor_id=visitor_id, user__isnull=True).update(user=user)
    except Exception:  # noqa: BLE001
        logger.exception("ai.tracking: could not join visitor events to user %s", getattr(user, "pk", None))
        return 0


def _purchase_visitor_id(visitor_id: str | None, user_id: int | None, order_id: int) -> str:
    # A guest order without a known browser still stands for one shopper: key it by the order, so that
    # training does not lump every guest purchase together as one "visitor".
    if visitor_id:
        return visitor_id[:VISITOR_ID_MAX_LENGTH]
    return "" if user_id is not None else f"order-{order_id}"


def _purchase_extra(order_id: int, quantity: int, unit_price) -> dict[str, Any]:
    return {"order_id": order_id, "quantity": int(quantity), "unit_price": str(Decimal(str(unit_price)))}


def _purchase_event(
    *, order_id: int, user_id: int | None, visitor_id: str, product_id: int, quantity: int, unit_price, placed_at: datetime
) -> Event:
    return Event(
        event_type=EventType.PURCHASE,
        visitor_id=visitor_id,
        user_id=user_id,
        product_id=product_id,
        extra=_purchase_extra(order_id, quantity, unit_price),
        created_at=placed_at,
    )


OPTED_OUT = "opted_out"  # marks an order whose shopper opted out: never recorded, never backfilled


def record_purchase(
    *,
    order_id: int,
    user_id: int | None,
    visitor_id: str | None,
    lines: Iterable[Sequence],
    placed_at: datetime | None = None,
    tracking_allowed: bool = True,
) -> int:
    """One `purchase` event per order line `(product_id, quantity, unit_price)`; returns how many were stored.

    Called once by the shop after the order commits, with `tracking_allowed=False` (request.ai_tracking)
    when the shopper opted out (cookie, Do-Not-Track, Global Privacy Control): then nothing about the
    purchase is stored, only a marker of the order id (no user, visitor or product) so that the backfill
    leaves it out too. Never raises: the order is placed whatever happens here.
    """
    try:
        placed_at = placed_at or timezone.now()
        if not tracking_allowed or not ai_settings.TRACKING_ENABLED:
            with event_transaction():
                Event.objects.create(event_type=OPTED_OUT, visitor_id="", extra={"order_id": order_id}, created_at=placed_at)
            return 0
        vid = _purchase_visitor_id(visitor_id, user_id, order_id)
        events = [
            _purchase_event(
                order_id=order_id, user_id=user_id, visitor_id=vid, product_id=product_id,
                quantity=quantity, unit_price=unit_price, placed_at=placed_at,
            )
            for product_id, quantity, unit_price in lines
            if product_id is not None
        ]
        with event_transaction():
            Event.objects.bulk_create(events)
        return len(events)
    except Exception:  # noqa: BLE001
        logger.exception("ai.tracking: could not record purchase events of order %s", order_id)
        return 0


def purchased_order_ids() -> set[int]:
    """Ids of the orders that already have purchase events, or whose shopper opted out (never backfilled)."""
    values = (
        Event.objects.filter(event_type__in=[EventType.PURCHASE, OPTED_OUT])
        .values_list("extra__order_id", flat=True)
        .distinct()
    )
    return {int(value) for value in values if value is not None}


def backfill_purchase_events(*, progress: bool = True, batch_size: int = 20000) -> int:
    """Create purchase events, with their real times, for every order line that has none yet.

    Idempotent per order: an order that already has purchase events is skipped, and the whole backfill is
    one transaction, so an interrupted run leaves no half-recorded order behind. Cancelled lines are skipped.
    Rows are inserted without model instances (`insert_purchase_rows`): the demo's 396,255 events spent
    most of their time in bulk_create's object building and SQL compiling. Returns the number created.
    """
    from tqdm import tqdm

    adapter = ai_settings.adapter()
    done = purchased_order_ids()
    created = 0
    batch: list[tuple[Any, ...]] = []
    lines = adapter.iter_order_lines()
    with transaction.atomic():
        for line in tqdm(lines, desc="purchase events", unit=" lines", disable=not progress, mininterval=1.0):
            if line.cancelled or line.order_id in done or line.product_id is None:
                continue
            batch.append((
                _purchase_visitor_id("", line.user_id, line.order_id),
                line.user_id,
                line.product_id,
                _purchase_extra(line.order_id, line.quantity, line.unit_price),
                line.placed_at,
            ))
            if len(batch) >= batch_size:
                created += insert_purchase_rows(batch)
                batch = []
        created += insert_purchase_rows(batch)
    return created


PURCHASE_ROW_FIELDS = ("visitor_id", "user", "product_id", "extra", "created_at")


def insert_purchase_rows(rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert purchase events given as (visitor_id, user_id, product_id, extra, created_at) rows: COPY on
    PostgreSQL, one `executemany` elsewhere. Every other column gets its field's default, and each value
    goes through its field's database preparation, so rows are stored exactly as `Event.objects.create`
    would store them. Returns the number of rows."""
    if not rows:
        return 0
    fields = [field for field in Event._meta.concrete_fields if not field.primary_key]
    constants = {
        field.name: field.get_db_prep_save(field.get_default(), connection)
        for field in fields if field.name not in PURCHASE_ROW_FIELDS
    }
    constants["event_type"] = EventType.PURCHASE
    position = {name: i for i, name in enumerate(PURCHASE_ROW_FIELDS)}
    by_name = {field.name: field for field in fields}
    varying = [(field.name, position[field.name]) for field in fields if field.name in position]

    def prepared(row: tuple[Any, ...]) -> list[Any]:
        values = dict(constants)
        for name, index in varying:
            values[name] = by_name[name].get_db_prep_save(row[index], connection)
        return [values[field.name] for field in fields]

    quote = connection.ops.quote_name
    table = quote(Event._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(prepared(row))
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", [prepared(r) for r in rows])
    return len(rows)


EVENT_FIELDS = (
    "event_type", "visitor_id", "user_id", "product_id", "query", "placement",
    "model_version_id", "extra", "created_at", "source", "shop_wide",
)


def record_events_bulk(rows: Sequence[dict[str, Any]]) -> int:
    """Store already validated events (dicts keyed by Event field names) in one transaction; all or nothing.

    Raises ValueError naming the first row with an unknown field or an invalid type (nothing is stored).
    """
    now = timezone.now()
    events = []
    for index, row in enumerate(rows):
        unknown = set(row) - set(EVENT_FIELDS)
        if unknown:
            raise ValueError(f"event {index}: unknown field(s) {', '.join(sorted(unknown))}")
        if not is_valid_event_type(row.get("event_type")):
            raise ValueError(f"event {index}: invalid event type {row.get('event_type')!r}")
        if not row.get("visitor_id") and row.get("user_id") is None:
            raise ValueError(f"event {index}: needs a visitor_id or a user_id")
        events.append(
            Event(
                event_type=row["event_type"],
                visitor_id=row.get("visitor_id") or "",
                user_id=row.get("user_id"),
                product_id=row.get("product_id"),
                query=row.get("query") or "",
                placement=row.get("placement") or "",
                model_version_id=row.get("model_version_id"),
                source=row.get("source") or "",
                shop_wide=row.get("shop_wide", True),
                extra=row.get("extra") or {},
                created_at=row.get("created_at") or now,
            )
        )
    with event_transaction():
        Event.objects.bulk_create(events, batch_size=BULK_BATCH_SIZE)
    return len(events)
