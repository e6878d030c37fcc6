"""What serving knows of a shopper: their recent events (short-term) and their purchases (long-term)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from django.db import connections, router

from ai.models import Event, EventType

HISTORY_LENGTH = 50  # the short-term sequence the models score from
FETCHED_EVENTS = 200  # events read per shopper (one query): the short-term sequence and recent purchases
HISTORY_EVENTS = (EventType.VIEW, EventType.ADD_TO_CART, EventType.PURCHASE)


@dataclass
class History:
    products: list[int]  # oldest first, consecutive repeats collapsed
    purchased: set[int]
    events: dict[int, str] = field(default_factory=dict)  # product -> its strongest recent event type
    purchases: list[int] = field(default_factory=list)  # long-term taste: purchased products, oldest first

    def __bool__(self) -> bool:
        return bool(self.products)


_STRENGTH: dict[str, int] = {EventType.PURCHASE: 3, EventType.ADD_TO_CART: 2, EventType.VIEW: 1}


def recent_history(*, user_id: int | None, visitor_id: str | None, length: int = HISTORY_LENGTH) -> History:
    """The last `length` distinct-in-a-row products the user (or visitor) viewed, added or bought, and
    the products they bought among their last FETCHED_EVENTS events: one query."""
    if user_id is not None:
        rows = _history_rows("user_id", int(user_id), max(length, FETCHED_EVENTS))
    elif visitor_id:
        rows = _history_rows("visitor_id", str(visitor_id), max(length, FETCHED_EVENTS))
    else:
        return History([], set())
    products: list[int] = []
    strongest: dict[int, str] = {}
    purchases: dict[int, None] = {}
    for nullable_id, event_type in reversed(rows):
        product_id = int(nullable_id)  # type: ignore[arg-type]  # filtered on product_id__isnull=False
        if event_type == EventType.PURCHASE:
            purchases.pop(product_id, None)
            purchases[product_id] = None  # ordered by the latest purchase
        if not products or products[-1] != product_id:
            products.append(product_id)
        if _STRENGTH.get(event_type, 0) > _STRENGTH.get(strongest.get(product_id, ""), 0):
            strongest[product_id] = event_type
    products = products[-length:]
    strongest = {p: strongest[p] for p in products}
    return History(products, set(purchases), strongest, list(purchases))


# The history query runs on every recommendation call, and building and compiling it with the ORM cost
# more than the database took to answer it. So the ORM compiles it once per database, key column and
# limit, with a placeholder for the shopper, and each call runs that SQL with its own shopper in the
# placeholder's slot. Same SQL, same parameters as the queryset would give: only the compiling is saved.
# (Both columns read come back as plain ints and strings on every backend: no converters to apply.)
_PLACEHOLDERS: dict[str, int | str] = {"user_id": -7_362_149, "visitor_id": "ai-recs-history-placeholder"}
_compiled: dict[tuple[str, str, int], tuple[str, tuple, int]] = {}
_compiled_lock = threading.Lock()


def history_queryset(column: str, value: int | str, limit: int):
    """The shopper's latest events that count as history, newest first (product, event type)."""
    return (
        Event.objects.filter(**{column: value}, event_type__in=HISTORY_EVENTS, product_id__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list("product_id", "event_type")[:limit]
    )


def _compile(alias: str, column: str, limit: int) -> tuple[str, tuple, int]:
    placeholder = _PLACEHOLDERS[column]
    query = history_queryset(column, placeholder, limit).using(alias).query
    sql, params = query.get_compiler(alias).as_sql()
    slots = [n for n, param in enumerate(params) if type(param) is type(placeholder) and param == placeholder]
    if len(slots) != 1:
        raise RuntimeError(f"the history query's placeholder appears {len(slots)} times in its parameters")
    return sql, tuple(params), slots[0]


def _history_rows(column: str, value: int | str, limit: int) -> list[tuple[int, str]]:
    alias = router.db_for_read(Event)
    key = (alias, column, limit)
    compiled = _compiled.get(key)
    if compiled is None:
        with _compiled_lock:
            compiled = _compiled.get(key)
            if compiled is None:
                compiled = _compiled[key] = _compile(alias, column, limit)
    sql, params, slot = compiled
    bound = list(params)
    bound[slot] = value
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, bound)
        return cursor.fetchall()
