"""What serving knows of a shopper: their recent events (short-term) and their purchases (long-term)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ai.models import Event, EventType

HISTORY_LENGTH = 50
HISTORY_EVENTS = (EventType.VIEW, EventType.ADD_TO_CART, EventType.PURCHASE)


@dataclass
class History:
    products: list[int]  # oldest first, consecutive repeats collapsed
    purchased: set[int]
    events: dict[int, str] = field(default_factory=dict)  # product -> its strongest recent event type

    def __bool__(self) -> bool:
        return bool(self.products)


_STRENGTH = {EventType.PURCHASE: 3, EventType.ADD_TO_CART: 2, EventType.VIEW: 1}


def recent_history(*, user_id: int | None, visitor_id: str | None, length: int = HISTORY_LENGTH) -> History:
    """The last `length` views, add-to-baskets and purchases of the user (or visitor): one query."""
    if user_id is not None:
        events = Event.objects.filter(user_id=user_id)
    elif visitor_id:
        events = Event.objects.filter(visitor_id=visitor_id)
    else:
        return History([], set())
    rows = list(
        events.filter(event_type__in=HISTORY_EVENTS, product_id__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list("product_id", "event_type")[:length]
    )
    products: list[int] = []
    strongest: dict[int, str] = {}
    for product_id, event_type in reversed(rows):
        product_id = int(product_id)
        if not products or products[-1] != product_id:
            products.append(product_id)
        if _STRENGTH.get(event_type, 0) > _STRENGTH.get(strongest.get(product_id, ""), 0):
            strongest[product_id] = event_type
    purchased = {p for p, t in strongest.items() if t == EventType.PURCHASE}
    return History(products, purchased, strongest)
