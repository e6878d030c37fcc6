"""Oscar's own signals -> ai.tracking. This is the whole of the shop's behaviour capture."""
from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from oscar.apps.basket.signals import basket_addition
from oscar.apps.catalogue.signals import product_viewed
from oscar.apps.order.signals import order_placed

from ai import tracking


@receiver(product_viewed, dispatch_uid="oscar_shop.ai.product_viewed")
def record_product_view(sender, product, user, request, response, **kwargs) -> None:
    tracking.record(request, "view", product_id=product.pk)


@receiver(basket_addition, dispatch_uid="oscar_shop.ai.basket_addition")
def record_basket_addition(sender, product, user, request, **kwargs) -> None:
    tracking.record(request, "add_to_cart", product_id=product.pk)


@receiver(user_logged_in, dispatch_uid="oscar_shop.ai.user_logged_in")
def join_visitor_events(sender, request, user, **kwargs) -> None:
    if request is not None:
        tracking.identify(request, user)


@receiver(order_placed, dispatch_uid="oscar_shop.ai.order_placed")
def record_order(sender, order, user, **kwargs) -> None:
    """One purchase event per line, once the order has committed. Oscar's signal carries no request, so
    a guest's purchase is keyed by its order and a customer's by their account."""

    def record() -> None:
        tracking.record_purchase(
            order_id=order.pk,
            user_id=order.user_id,
            visitor_id=None,
            lines=[(line.product_id, line.quantity, unit_price(line)) for line in order.lines.all()],
            placed_at=order.date_placed,
        )

    transaction.on_commit(record)


def unit_price(line):
    """What one unit of the line cost the customer (tax included where Oscar knows it)."""
    if line.unit_price_incl_tax is not None:
        return line.unit_price_incl_tax
    return line.line_price_incl_tax / line.quantity
