"""Payment providers: a small interface and the one built-in provider, pay on delivery.

A provider is asked to authorise an order after the checkout transaction has committed (the order
is pending and its stock taken; no row lock is held while the provider answers). A failed result
cancels the order through the pipeline, which restocks; a captured payment moves it to "paid".
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
        """Authorise (or take) the payment for the placed, pending `order` (after the checkout commit)."""


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
