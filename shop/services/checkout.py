"""Placing an order: one transaction from the basket to a pending order, then the payment.

The stock rows are locked in product-id order, checked, and decremented (shop.services.stock), so
that concurrent checkouts can neither oversell nor deadlock. When anything fails in the transaction
it rolls back as a whole: the basket and the stock are exactly as they were. The payment provider is
asked after the commit, outside the locks; a declined payment cancels the order through the
pipeline (which restocks) and puts the basket back.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from shop.exceptions import CheckoutError, EmptyBasket, PaymentDeclined
from shop.models import Basket, BasketLine, Order, OrderLine, OrderPart, OrderStatus
from shop.payments import PaymentResult, get_provider
from shop.services import locks, stock
from shop.services.addresses import ShippingAddress
from shop.services.orders import generate_order_number, record_status_change, transition

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShippingMethod:
    code: str
    name: str
    price: Decimal


SHIPPING_METHODS: dict[str, ShippingMethod] = {
    method.code: method
    for method in (
        ShippingMethod("standard", "Standard delivery (3–5 working days)", Decimal("3.95")),
        ShippingMethod("express", "Express delivery (next working day)", Decimal("8.95")),
    )
}
DEFAULT_SHIPPING_METHOD = "standard"


def get_shipping_method(code) -> ShippingMethod:
    if isinstance(code, ShippingMethod):
        code = code.code
    try:
        return SHIPPING_METHODS[code]
    except (KeyError, TypeError):
        raise CheckoutError(
            f"Unknown shipping method {code!r}: choose one of {', '.join(SHIPPING_METHODS)}.",
            fields={"shipping_method": "Choose a shipping method."},
        ) from None


def _clean_email(email: str | None, user) -> str:
    email = (email or "").strip() or (getattr(user, "email", "") or "")
    try:
        validate_email(email)
    except ValidationError:
        raise CheckoutError("Please enter a valid e-mail address.", fields={"email": "Enter a valid e-mail address."}) from None
    return email


def _record_purchase(
    *, order_id: int, user_id: int | None, visitor_id: str, lines: list, placed_at: datetime, ai_tracking: bool = True
) -> None:
    from ai import tracking

    tracking.record_purchase(
        order_id=order_id, user_id=user_id, visitor_id=visitor_id, lines=lines, placed_at=placed_at,
        tracking_allowed=ai_tracking,
    )


def _create_order(**values) -> Order:
    """Create the order under a fresh number, retrying on the rare number collision."""
    for _ in range(5):
        try:
            with transaction.atomic():
                return Order.objects.create(number=generate_order_number(values["placed_at"]), **values)
        except IntegrityError:
            continue
    raise CheckoutError("We could not number your order; please try again.")


def place_order(
    *,
    basket: Basket,
    user,
    email: str,
    address: ShippingAddress | Mapping,
    shipping_method,
    payment_method: str,
    placed_at: datetime | None = None,
    visitor_id: str = "",
    ai_tracking: bool = True,
) -> Order:
    """Turn `basket` into an order and return it.

    Raises EmptyBasket, ProductUnavailable, InsufficientStock or CheckoutError (bad address,
    e-mail, shipping or payment method); the basket and stock are then untouched. Raises
    PaymentDeclined when the provider refuses: the order is then cancelled (stock restored) and the
    basket holds its lines again. `visitor_id` ties the ai purchase events to the browser ("" when it opted out).
    """
    user = user if user is not None and getattr(user, "is_authenticated", False) else None
    address = ShippingAddress.from_data(address) if isinstance(address, Mapping) else address.cleaned()
    email = _clean_email(email, user)
    method = get_shipping_method(shipping_method)
    provider = get_provider(payment_method)
    placed_at = placed_at or timezone.now()

    with transaction.atomic():
        # Locking the basket first makes a double submit of one basket wait, then find it empty.
        if basket.pk is None or locks.lock_basket(basket.pk) is None:
            raise EmptyBasket()
        wanted: dict[int, int] = dict(
            BasketLine.objects.filter(basket_id=basket.pk).order_by("product_id").values_list("product_id", "quantity")
        )
        if not wanted:
            raise EmptyBasket()
        products = stock.take_stock(wanted)
        currencies = {products[pid].currency for pid in wanted}
        if len(currencies) > 1:
            raise CheckoutError("Products priced in different currencies must be ordered separately.")

        subtotal = sum((products[pid].price * q for pid, q in wanted.items()), Decimal("0.00"))
        order = _create_order(
            user=user,
            email=email,
            status=OrderStatus.PENDING,
            currency=currencies.pop(),
            subtotal=subtotal,
            shipping_cost=method.price,
            total=subtotal + method.price,
            shipping_method=method.code,
            payment_method=provider.code,
            shipping_name=address.name,
            shipping_line1=address.line1,
            shipping_line2=address.line2,
            shipping_city=address.city,
            shipping_postcode=address.postcode,
            shipping_country=address.country,
            placed_at=placed_at,
        )
        order_lines = OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                product_id=pid,
                merchant_id=products[pid].merchant_id,
                sku=products[pid].sku,
                title=products[pid].title,
                unit_price=products[pid].price,
                quantity=quantity,
                line_total=products[pid].price * quantity,
            )
            for pid, quantity in wanted.items()
        )
        # Each merchant's share of the order is fulfilled (and cancelled) on its own.
        OrderPart.objects.bulk_create(
            OrderPart(order=order, merchant_id=merchant_id, status=OrderStatus.PENDING)
            for merchant_id in sorted({products[pid].merchant_id for pid in wanted})
        )
        record_status_change(order, "", OrderStatus.PENDING, user=user, note="Order placed", at=placed_at)
        BasketLine.objects.filter(basket_id=basket.pk).delete()

    # Saleor's complete_checkout: the payment is authorised after the commit, outside the row locks, so a
    # slow provider never holds up other shoppers buying the same products.
    result = _authorise(provider, order)
    if not result.success:
        message = result.message or PaymentDeclined.default_message
        transition(order, OrderStatus.CANCELLED, user=user, actor=provider.name, note=f"Payment declined: {message}"[:500])
        _restore_basket(basket.pk, wanted)
        raise PaymentDeclined(message, order=order)
    if result.captured:
        order = transition(order, OrderStatus.PAID, user=user, actor=provider.name, note=result.reference)
    transaction.on_commit(
        partial(
            _record_purchase,
            order_id=order.pk,
            user_id=user.pk if user else None,
            visitor_id=visitor_id,
            ai_tracking=ai_tracking,
            lines=[(line.product_id, line.quantity, line.unit_price) for line in order_lines],
            placed_at=placed_at,
        )
    )
    return order


def _authorise(provider, order: Order) -> PaymentResult:
    """The provider's answer; a provider that fails (network, bug) counts as a decline, logged."""
    try:
        return provider.authorise(order)
    except Exception:
        logger.exception("Payment provider %s failed on order %s", provider.code, order.number)
        return PaymentResult(success=False, message="We could not reach the payment service: no money was taken.")


def _restore_basket(basket_id: int, quantities: dict[int, int]) -> None:
    """Put the lines back after a declined payment; lines added since (another tab) are kept as they are."""
    if Basket.objects.filter(pk=basket_id).exists():
        BasketLine.objects.bulk_create(
            [BasketLine(basket_id=basket_id, product_id=pid, quantity=q) for pid, q in quantities.items()],
            ignore_conflicts=True,
        )
