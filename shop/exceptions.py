"""Typed errors of the shop's domain services.

Every error carries a `.message` written for the shopper (or the merchant), so that views, the API
and the admin can show it as it is. `code` is a stable machine-readable name for the API error body.
"""
from __future__ import annotations

from typing import Any


class ShopError(Exception):
    code = "shop_error"
    default_message = "Something went wrong with your request."

    def __init__(self, message: str | None = None, *, fields: dict[str, Any] | None = None) -> None:
        self.message = message or self.default_message
        # Field name -> a message (or a list of them, or nested errors of rows), for errors about one field
        # of a form or request body.
        self.fields = fields or {}
        super().__init__(self.message)


class InvalidQuantity(ShopError):
    code = "invalid_quantity"
    default_message = "Please enter a whole number of items."


class ProductUnavailable(ShopError):
    code = "product_unavailable"
    default_message = "This product is not available."

    def __init__(self, message: str | None = None, *, product_id: Any = None) -> None:
        self.product_id = product_id
        super().__init__(message)


class InsufficientStock(ShopError):
    code = "insufficient_stock"

    def __init__(self, product: Any, requested: int, available: int) -> None:
        self.product = product
        self.requested = requested
        self.available = max(available, 0)
        title = getattr(product, "title", str(product))
        if self.available == 0:
            message = f"Sorry, “{title}” is out of stock."
        else:
            unit = "is" if self.available == 1 else "are"
            message = f"Sorry, only {self.available} of “{title}” {unit} in stock (you asked for {requested})."
        super().__init__(message)


class EmptyBasket(ShopError):
    code = "empty_basket"
    default_message = "Your basket is empty."


class CheckoutError(ShopError):
    code = "checkout_error"
    default_message = "Your order could not be placed."


class PaymentDeclined(CheckoutError):
    """The provider refused the payment after the order was placed: the order is cancelled (restocked)."""

    code = "payment_declined"
    default_message = "Your payment was declined: no money was taken. Please try another payment method."

    def __init__(self, message: str | None = None, *, order: Any = None) -> None:
        self.order = order
        message = message or self.default_message
        super().__init__(message, fields={"payment_method": message})


class ForbiddenTransition(ShopError):
    code = "forbidden_transition"

    def __init__(self, order: Any, from_status: str, to_status: str) -> None:
        self.order = order
        self.from_status = from_status
        self.to_status = to_status
        number = getattr(order, "number", order)
        super().__init__(f"Order {number} cannot go from “{from_status}” to “{to_status}”.")
