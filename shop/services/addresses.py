"""The one shipping-address validator: checkout, the checkout form and the API all use these rules."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import NamedTuple

from shop.exceptions import CheckoutError


class AddressRule(NamedTuple):
    label: str
    max_length: int  # the length of the Order column it is stored in
    required: bool

    def required_message(self) -> str:
        return f"{self.label} is required."

    def too_long_message(self) -> str:
        return f"{self.label} must be at most {self.max_length} characters."


ADDRESS_RULES: dict[str, AddressRule] = {
    "name": AddressRule("Full name", 200, True),
    "line1": AddressRule("Address line 1", 200, True),
    "line2": AddressRule("Address line 2", 200, False),
    "city": AddressRule("Town or city", 100, True),
    "postcode": AddressRule("Postcode", 20, True),
    "country": AddressRule("Country", 100, True),
}


def address_errors(values: dict[str, object]) -> tuple[dict[str, str], dict[str, str]]:
    """(cleaned values, errors by field) for raw address values; spaces around each value are stripped."""
    cleaned, errors = {}, {}
    for name, rule in ADDRESS_RULES.items():
        raw = values.get(name, "")
        raw = "" if raw is None else raw
        value = raw.strip() if isinstance(raw, str) else ""
        if not isinstance(raw, str):
            errors[name] = f"{rule.label} must be text."
        elif rule.required and not value:
            errors[name] = rule.required_message()
        elif len(value) > rule.max_length:
            errors[name] = rule.too_long_message()
        cleaned[name] = value
    return cleaned, errors


@dataclass(frozen=True)
class ShippingAddress:
    name: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    postcode: str = ""
    country: str = ""

    RULES = ADDRESS_RULES

    def cleaned(self) -> ShippingAddress:
        """A copy with surrounding spaces stripped; raises CheckoutError naming every bad field."""
        values, errors = address_errors({f.name: getattr(self, f.name) for f in fields(self)})
        if errors:
            raise CheckoutError("Please complete your shipping address.", fields=errors)
        return replace(self, **values)

    @classmethod
    def from_data(cls, data) -> ShippingAddress:
        """From a form or request body (a mapping); missing keys count as empty."""
        return cls(**{name: data.get(name, "") or "" for name in ADDRESS_RULES}).cleaned()
