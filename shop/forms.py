"""Storefront forms. They check the shape of the input; the services check the business rules."""
from __future__ import annotations

from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

# The services enforce the same bound; the form gives the shopper a clear message first.
from shop.exceptions import CheckoutError
from shop.services.addresses import ADDRESS_RULES, ShippingAddress
from shop.services.basket import MAX_QUANTITY

SORT_CHOICES = [
    ("popular", "Most popular"),
    ("price", "Price: low to high"),
    ("-price", "Price: high to low"),
    ("newest", "Newest"),
]
SORT_ORDERING = {
    "popular": ("-units_sold", "title", "pk"),
    "price": ("price", "title", "pk"),
    "-price": ("-price", "title", "pk"),
    "newest": ("-created_at", "-pk"),
}


class ListingForm(forms.Form):
    """Sorting and filtering of a product listing. Bad values fall back to the defaults."""

    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)
    in_stock = forms.BooleanField(required=False, label="In stock only")

    def __init__(self, data=None, *, default_sort: str = "popular", extra_choices=(), **kwargs):
        super().__init__(data, **kwargs)
        self.default_sort = default_sort
        cast(forms.ChoiceField, self.fields["sort"]).choices = [*extra_choices, *SORT_CHOICES]

    def sort_value(self) -> str:
        if self.is_bound and self.is_valid() and self.cleaned_data["sort"]:
            return self.cleaned_data["sort"]
        return self.default_sort

    def in_stock_only(self) -> bool:
        return bool(self.is_bound and self.is_valid() and self.cleaned_data["in_stock"])


class QuantityField(forms.IntegerField):
    def __init__(self, *, min_value: int = 1, **kwargs):
        kwargs.setdefault("error_messages", {})
        kwargs["error_messages"].setdefault("invalid", "Enter the quantity as a whole number.")
        kwargs["error_messages"].setdefault("required", "Enter a quantity.")
        kwargs["error_messages"].setdefault(
            "min_value", "The quantity cannot be negative." if min_value == 0 else f"The quantity must be at least {min_value}."
        )
        kwargs["error_messages"].setdefault("max_value", f"You can order at most {MAX_QUANTITY} of one product.")
        super().__init__(min_value=min_value, max_value=MAX_QUANTITY, **kwargs)


class AddToBasketForm(forms.Form):
    product_id = forms.IntegerField(widget=forms.HiddenInput, error_messages={"invalid": "Unknown product."})
    quantity = QuantityField(initial=1)


class BasketQuantityForm(forms.Form):
    """Changes the quantity of one basket line; 0 removes it."""

    product_id = forms.IntegerField(widget=forms.HiddenInput, error_messages={"invalid": "Unknown product."})
    quantity = QuantityField(min_value=0)


class RemoveFromBasketForm(forms.Form):
    product_id = forms.IntegerField(widget=forms.HiddenInput, error_messages={"invalid": "Unknown product."})


def address_field(name: str) -> forms.CharField:
    """A form field for one address part, with the limits and messages of the shared address validator."""
    rule = ADDRESS_RULES[name]
    return forms.CharField(
        label=rule.label, max_length=rule.max_length, required=rule.required,
        error_messages={"required": rule.required_message(), "max_length": rule.too_long_message()},
    )


class CheckoutForm(forms.Form):
    email = forms.EmailField(label="E-mail", help_text="We send the order confirmation here.")
    name = address_field("name")
    line1 = address_field("line1")
    line2 = address_field("line2")
    city = address_field("city")
    postcode = address_field("postcode")
    country = address_field("country")
    shipping_method = forms.ChoiceField(label="Delivery", widget=forms.RadioSelect)
    payment_method = forms.ChoiceField(label="Payment", widget=forms.RadioSelect)

    def __init__(self, *args, shipping_choices, payment_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shipping_method"].choices = shipping_choices
        self.fields["payment_method"].choices = payment_choices
        if shipping_choices:
            self.fields["shipping_method"].initial = shipping_choices[0][0]
        if payment_choices:
            self.fields["payment_method"].initial = payment_choices[0][0]
        autocomplete = {
            "email": "email",
            "name": "name",
            "line1": "address-line1",
            "line2": "address-line2",
            "city": "address-level2",
            "postcode": "postal-code",
            "country": "country-name",
        }
        for name, token in autocomplete.items():
            self.fields[name].widget.attrs["autocomplete"] = token
        self.fields["country"].initial = "United Kingdom"

    def clean(self) -> dict:
        """Check the address with the service's validator (the one checkout applies), field by field."""
        super().clean()
        cleaned = self.cleaned_data
        try:
            cleaned["address"] = ShippingAddress.from_data({name: cleaned.get(name, "") for name in ADDRESS_RULES})
        except CheckoutError as error:
            for name, message in error.fields.items():
                if name not in self.errors:
                    self.add_error(name, message)
        return cleaned


class SignUpForm(UserCreationForm):
    email = forms.EmailField(label="E-mail", help_text="For order confirmations and password resets.")

    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]  # the stubs omit the form's Meta
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this e-mail already exists. Sign in or reset your password.")
        return email
