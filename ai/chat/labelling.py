"""Every conversation becomes training data: messages the bot handed off or was unsure about go into the
chat intents label set of the annotation workbench, where staff label them and the `chat_intent` kind
retrains on the gold labels."""
from __future__ import annotations

import logging

from ai.conf import ai_settings

from .dialogue import Outcome

logger = logging.getLogger(__name__)


def chat_label_set():
    """The label set the chat's intent model learns from (created empty on first use)."""
    from ai.models import LabelSet

    slug = ai_settings.CHAT_INTENTS_LABEL_SET
    label_set, _ = LabelSet.objects.get_or_create(
        slug=slug,
        defaults={
            "name": "Chat intents",
            "source": "support chat",
            "guidelines": "Label what the shopper wants. Use `oos` for anything the shop's support does not cover.",
        },
    )
    return label_set


def needs_label(outcome: Outcome) -> bool:
    """Handed off, or understood below the threshold (or by no model at all)."""
    return outcome.handoff or not outcome.understanding.understood


def collect(message_id: int, text: str, outcome: Outcome) -> bool:
    """Add the shopper's message to the label set when it needs a human label. Never raises: a failure
    here must not lose the shopper's conversation, so it is logged instead."""
    if not needs_label(outcome):
        return False
    from ai.annotation.services import add_items

    u = outcome.understanding
    metadata = {"message": message_id, "bot_intent": u.intent, "confidence": round(u.confidence, 4),
                "handoff": outcome.handoff, "reason": outcome.handoff_reason}
    try:
        result = add_items(chat_label_set(), [text], source="chat", metadata=[metadata],
                           source_refs=[f"chat:message:{message_id}"])
    except Exception:
        logger.exception("ai.chat: could not add message %s to the label set", message_id)
        return False
    return result.created_count == 1
