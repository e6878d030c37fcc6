"""Which merchants a staff member may see and act on: the one rule, used by the API and the admin."""
from __future__ import annotations

from typing import Any


def staff_merchant_ids(user: Any) -> list[int] | None:
    """None for a superuser or a staff member linked to no merchant (shop-wide staff: every merchant);
    else the ids of the merchants the user is linked to (`Merchant.users`), and only those."""
    if user is None or not user.is_authenticated:
        return []
    if user.is_superuser:
        return None
    ids = sorted(user.merchants.values_list("pk", flat=True))
    return ids or None
