"""What a customer may do to their own order themselves (today: from the support chat).

Both go through the order pipeline's rules and locks: cancelling is `orders.transition` to cancelled
(which restocks); an address change is allowed until the order ships, and is recorded in the order's
history like a status change.
"""
from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from shop.exceptions import ShopError
from shop.models import Order, OrderStatus
from shop.services import locks, orders
from shop.services.checkout import ShippingAddress

# A customer may cancel what has not left the warehouse; after that it is a return.
CUSTOMER_CANCELLABLE = (OrderStatus.PENDING, OrderStatus.PAID)
# The address can change until the order ships.
ADDRESS_CHANGEABLE = (OrderStatus.PENDING, OrderStatus.PAID)


class CustomerActionRefused(ShopError):
    code = "customer_action_refused"


def cancel_by_customer(order: Order, *, user=None, actor: str = "customer", note: str = "") -> Order:
    """Cancel the order (restocking it) if it has not shipped; raises CustomerActionRefused otherwise."""
    if order.status not in CUSTOMER_CANCELLABLE:
        raise CustomerActionRefused(
            f"Order {order.number} is {order.get_status_display().lower()} and can no longer be cancelled."
        )
    try:
        return orders.transition(order, OrderStatus.CANCELLED, user=user, actor=actor, note=note or "cancelled by the customer")
    except ShopError as exc:  # the status changed under us (e.g. shipped meanwhile)
        raise CustomerActionRefused(exc.message) from exc


def change_shipping_address(order: Order, address: Mapping[str, str], *, user=None, actor: str = "customer") -> Order:
    """Replace the shipping address of an order that has not shipped; raises CheckoutError for a bad
    address (naming each field) and CustomerActionRefused once it has shipped."""
    cleaned = ShippingAddress.from_data(address)
    with transaction.atomic():
        locked = locks.lock_order(order.pk)
        if locked.status not in ADDRESS_CHANGEABLE:
            raise CustomerActionRefused(
                f"Order {locked.number} is {locked.get_status_display().lower()}: its address can no longer change."
            )
        now = timezone.now()
        values = {
            "shipping_name": cleaned.name,
            "shipping_line1": cleaned.line1,
            "shipping_line2": cleaned.line2,
            "shipping_city": cleaned.city,
            "shipping_postcode": cleaned.postcode,
            "shipping_country": cleaned.country,
            "updated_at": now,
        }
        Order.objects.filter(pk=locked.pk).update(**values)
        orders.record_status_change(
            locked, locked.status, locked.status, user=user, actor=actor,
            note=f"shipping address changed to {cleaned.line1}, {cleaned.city} {cleaned.postcode}", at=now,
        )
        for name, value in values.items():
            setattr(locked, name, value)
    return locked
