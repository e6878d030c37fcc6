"""Answer texts: the staff-edited template of an intent (or its default) filled with shop data.

Templates use `$name` placeholders (Python's string.Template): only the values we pass in can appear,
so a template can never reach into objects or run code. Unknown placeholders are left as written.
"""
from __future__ import annotations

from string import Template

from django.utils import formats, timezone

from ai.adapter import OrderInfo
from ai.conf import ai_settings
from ai.models import AnswerTemplate, PolicyText

from .defaults import DEFAULT_ANSWERS, DEFAULT_POLICIES

ORDER_PLACEHOLDERS = ("order_number", "status", "placed_on", "total", "items", "progress", "address")
LINK_PLACEHOLDERS = ("account_url", "signup_url", "password_reset_url")
PLACEHOLDERS = ORDER_PLACEHOLDERS + LINK_PLACEHOLDERS

# Example values for the admin's preview.
SAMPLE_ORDER = {
    "order_number": "AI-261201-7K3F9Q",
    "status": "shipped",
    "placed_on": "1 December 2026",
    "total": "£24.50",
    "items": "2 × Brass lantern",
    "progress": "It left our warehouse on 2 December 2026.",
    "address": "1 High Street, York YO1 1AA",
}


def link_values() -> dict[str, str]:
    """The shop's pages the answers link to (from the adapter; missing ones read "our website")."""
    links = ai_settings.adapter().customer_links()
    return {name: links.get(name.removesuffix("_url"), "") or "our website" for name in LINK_PLACEHOLDERS}


def template_text(intent: str) -> str:
    row = AnswerTemplate.objects.filter(intent=intent, active=True).values_list("text", flat=True).first()
    return row if row is not None else DEFAULT_ANSWERS.get(intent, "")


def fill(text: str, values: dict[str, str]) -> str:
    return " ".join(Template(text).safe_substitute({**link_values(), **values}).split())


def render(intent: str, values: dict[str, str] | None = None) -> str:
    return fill(template_text(intent), values or {})


def policy_text(topic: str) -> str:
    row = PolicyText.objects.filter(topic=topic).values_list("text", flat=True).first()
    return row if row is not None else DEFAULT_POLICIES.get(topic, "")


def _date(value) -> str:
    return formats.date_format(timezone.localtime(value), "j F Y") if value else ""


def money(amount, currency: str = "GBP") -> str:
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency, f"{currency} ")
    return f"{symbol}{amount:,.2f}"


def order_values(order: OrderInfo) -> dict[str, str]:
    if order.delivered_at:
        progress = f"It was delivered on {_date(order.delivered_at)}."
    elif order.shipped_at:
        progress = f"It left our warehouse on {_date(order.shipped_at)} and is on its way."
    elif order.status in ("cancelled", "refunded"):
        progress = ""
    else:
        progress = "It has not shipped yet; you can still cancel it or change its delivery address here."
    items = ", ".join(f"{line.quantity} × {line.title}" for line in order.lines[:5])
    if len(order.lines) > 5:
        items += f" and {len(order.lines) - 5} more"
    return {
        "order_number": order.number,
        "status": order.status_label.lower(),
        "placed_on": _date(order.placed_at),
        "total": money(order.total, order.currency),
        "items": items,
        "progress": progress,
        "address": ", ".join(filter(None, (order.shipping_city, order.shipping_postcode))),
    }


def preview(text: str) -> str:
    """A template filled with the example order, as the admin shows it."""
    return fill(text, SAMPLE_ORDER)
