"""`{% load ai_chat %}{% support_chat %}`: the support chat widget (launcher button and panel).

Renders ai/templates/ai/chat/widget.html with its own stylesheet and script (ai/static/ai/chat.css and
chat.js; no inline script or style). Override the template or the `.ai-chat-*` classes to restyle it.
"""
from __future__ import annotations

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse

from ai.conf import ai_settings
from ai.models.chat import MESSAGE_MAX_LENGTH

register = template.Library()


@register.inclusion_tag("ai/chat/widget.html", takes_context=True)
def support_chat(context) -> dict:
    request = context.get("request")
    return {
        "endpoint": reverse("ai:chat"),
        "messages_endpoint": reverse("ai:chat_messages"),
        "rating_endpoint": reverse("ai:chat_rating"),
        "csrf_token": get_token(request) if request is not None else "",
        "poll_ms": int(ai_settings.CHAT_POLL_MS),
        "max_length": MESSAGE_MAX_LENGTH,
    }
