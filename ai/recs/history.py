"""What serving knows of a shopper: their recent events (short-term) and their purchases (long-term)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ai.compiled import CompiledRows
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
        rows = _history_rows.rows([int(user_id)], "user_id", max(length, FETCHED_EVENTS))
    elif visitor_id:
        rows = _history_rows.rows([str(visitor_id)], "visitor_id", max(length, FETCHED_EVENTS))
    else:
        return History([], set())
    products: list[int] = []
    strongest: dict[int, str] = {}
    purchases: dict[int, None] = {}
    for nullable_id, event_type in reversed(rows):
        product_id = int(nullable_id)  # filtered on product_id__isnull=False
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


def history_queryset(values: list, column: str, limit: int):
    """The shopper's (`column` = the one value) latest events that count as history, newest first:
    (product, event type). Compiled once and reused (`ai.compiled`): it runs on every recommendation call."""
    (value,) = values
    return (
        Event.objects.filter(**{column: value}, event_type__in=HISTORY_EVENTS, product_id__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list("product_id", "event_type")[:limit]
    )


_history_rows = CompiledRows(Event, history_queryset)
