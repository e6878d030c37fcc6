"""Payment providers: a small interface and the one built-in provider, pay on delivery.

A provider is asked to authorise an order inside the checkout transaction. A failed result rolls
the whole order back; a captured payment moves the order straight to "paid".
"""
from __future__ import annotations

import abc
from dataclasses import dataclass

from shop.exceptions import CheckoutError


@dataclass(frozen=True)
class PaymentResult:
    success: bool
    # True when the money has been taken now: the order becomes "paid" at once.
    captured: bool = False
    reference: str = ""
    message: str = ""


class PaymentProvider(abc.ABC):
    code: str = ""
    name: str = ""
    description: str = ""

    @abc.abstractmethod
    def authorise(self, order) -> PaymentResult:
        """Authorise (or take) the payment for `order`, inside the checkout transaction."""


class PayOnDelivery(PaymentProvider):
    code = "pay_on_delivery"
    name = "Pay on delivery"
    description = "Pay the courier in cash or by card when your parcel arrives."

    def authorise(self, order) -> PaymentResult:
        # Nothing to take now: the order stays pending until the courier collects the money.
        return PaymentResult(success=True, captured=False, message="You will pay on delivery.")


PROVIDERS: dict[str, PaymentProvider] = {provider.code: provider for provider in (PayOnDelivery(),)}


def get_provider(code: str) -> PaymentProvider:
    try:
        return PROVIDERS[code]
    except (KeyError, TypeError):
        raise CheckoutError(
            f"Unknown payment method {code!r}: choose one of {', '.join(PROVIDERS)}.",
            fields={"payment_method": "Choose a payment method."},
        ) from None
