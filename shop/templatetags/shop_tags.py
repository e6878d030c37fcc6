"""Small helpers for the storefront templates."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.http import QueryDict

from shop import placeholders

register = template.Library()

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


@register.filter
def money(amount, currency: str = "GBP") -> str:
    """`9.5|money:"GBP"` → "£9.50"; unknown currencies are written as a code prefix."""
    try:
        value = Decimal(amount).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return ""
    symbol = CURRENCY_SYMBOLS.get(currency)
    text = f"{value:,.2f}"
    return f"{symbol}{text}" if symbol else f"{currency} {text}"


@register.filter
def hue_bucket(value) -> int:
    """One of twelve 30° hue classes (`hue-0` … `hue-11` in shop.css) for a tile, by the placeholders' rule."""
    try:
        return placeholders.hue(int(value)) // 30
    except (TypeError, ValueError):
        return 7


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (None or "" drops one), e.g. for pagination links."""
    request = context.get("request")
    params = request.GET.copy() if request is not None else QueryDict(mutable=True)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def shipping_label(code: str) -> str:
    """The shopper-facing name of a shipping method code ("standard" → "Standard delivery (3–5 working days)")."""
    from shop.services.checkout import SHIPPING_METHODS

    method = SHIPPING_METHODS.get(code)
    return method.name if method else (code or "—")


@register.filter
def payment_label(code: str) -> str:
    from shop.payments import PROVIDERS

    provider = PROVIDERS.get(code)
    return provider.name if provider else (code or "—")
