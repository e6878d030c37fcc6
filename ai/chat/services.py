"""Conversations: the shopper's messages and the bot's answers, staff replies, notes, assignment,
resolution and ratings. Every change locks the conversation row, writes, and bumps its `revision`
(the widget's ETag) in one transaction."""
from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ai.conf import ai_settings
from ai.models import Conversation, InternalNote, Message, SatisfactionRating
from ai.models.chat import MESSAGE_MAX_LENGTH

from . import labelling
from .dialogue import Outcome, Turn, respond

logger = logging.getLogger(__name__)
STAFF_SEEN_KEY = "ai:chat:staff-seen"
Status = Conversation.Status
Sender = Message.Sender


class ChatError(Exception):
    """A request the chat refuses; `message` is written for the person who sent it."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        self.message, self.code = message, code
        super().__init__(message)


def clean_text(text: object) -> str:
    if not isinstance(text, str):
        raise ChatError("Send the message as text.")
    text = text.replace("\x00", "").strip()
    if not text:
        raise ChatError("The message is empty.")
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ChatError(f"Messages can be at most {MESSAGE_MAX_LENGTH} characters long (this one has {len(text)}).", "too_long")
    return text


# Staff presence ---------------------------------------------------------------------------------
def mark_staff_seen() -> None:
    """Called whenever staff with the inbox permission load or poll the inbox."""
    cache.set(STAFF_SEEN_KEY, timezone.now().timestamp(), timeout=int(ai_settings.CHAT_STAFF_ONLINE_S) * 2)


def staff_online() -> bool:
    seen = cache.get(STAFF_SEEN_KEY)
    return seen is not None and timezone.now().timestamp() - float(seen) <= float(ai_settings.CHAT_STAFF_ONLINE_S)


# Conversations ----------------------------------------------------------------------------------
def conversation_for(conversation_id: int | None, *, visitor_id: str, user_id: int | None) -> Conversation | None:
    """The conversation this browser holds (by the id kept in its session), if it still belongs to it."""
    if not conversation_id:
        return None
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return None
    if conversation.user_id is not None and conversation.user_id != user_id:
        return None  # signed out, or another account on this browser: a fresh conversation
    return conversation


def start_conversation(*, visitor_id: str, user_id: int | None) -> Conversation:
    return Conversation.objects.create(visitor_id=visitor_id or "", user_id=user_id)


def _lock(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _touch(conversation: Conversation, **fields) -> None:
    now = timezone.now()
    Conversation.objects.filter(pk=conversation.pk).update(revision=F("revision") + 1, last_message_at=now, **fields)


def _bot_messages(conversation: Conversation, outcome: Outcome) -> list[Message]:
    version = outcome.understanding.model_version_id
    return [
        Message(
            conversation=conversation, sender=Sender.BOT, text=reply.text, intent=reply.intent,
            payload={**reply.payload(), **({"model_version": version} if version else {})},
            delivery=Message.Delivery.SENT,
        )
        for reply in outcome.replies
    ]


def post_shopper_message(conversation: Conversation, text: str, *, user_id: int | None) -> list[Message]:
    """Store the shopper's message and, while the bot has the conversation, its answers."""
    text = clean_text(text)
    with transaction.atomic():
        locked = _lock(conversation)
        if locked.user_id is None and user_id is not None:
            locked.user_id = user_id  # signed in mid-conversation: the conversation is now theirs
        message = Message(conversation=locked, sender=Sender.SHOPPER, text=text, delivery=Message.Delivery.DELIVERED)
        created = [message]
        fields: dict = {"user_id": locked.user_id}
        outcome = None
        if locked.status in (Status.BOT, Status.RESOLVED):
            turn = Turn(text=text, user_id=locked.user_id, state=dict(locked.state), misses=locked.misses,
                        staff_online=staff_online())
            outcome = respond(turn)
            message.intent = outcome.understanding.intent
            message.confidence = outcome.understanding.confidence if outcome.understanding.intent else None
            message.entities = outcome.entities.as_json()
            created += _bot_messages(locked, outcome)
            fields.update(state=turn.state, misses=turn.misses, status=Status.BOT, resolved_at=None)
            if outcome.handoff:
                fields.update(status=Status.WAITING, handed_off_at=timezone.now(), misses=0)
        Message.objects.bulk_create(created)
        _touch(locked, **fields)
        if outcome is not None:
            transaction.on_commit(lambda: labelling.collect(message.pk, text, outcome))
    return created


def messages_after(conversation: Conversation, cursor: int) -> list[Message]:
    return list(conversation.messages.filter(pk__gt=cursor).order_by("pk")[:200])


def mark_delivered(conversation: Conversation, message_ids: list[int]) -> None:
    """Bot and staff messages the widget has received."""
    updated = Message.objects.filter(
        conversation=conversation, pk__in=message_ids, sender__in=(Sender.BOT, Sender.AGENT), delivery=Message.Delivery.SENT
    ).update(delivery=Message.Delivery.DELIVERED)
    if updated:
        Conversation.objects.filter(pk=conversation.pk).update(revision=F("revision") + 1)


def mark_read_by_staff(conversation: Conversation) -> None:
    updated = Message.objects.filter(
        conversation=conversation, sender=Sender.SHOPPER, delivery=Message.Delivery.DELIVERED
    ).update(delivery=Message.Delivery.READ)
    if updated:
        Conversation.objects.filter(pk=conversation.pk).update(revision=F("revision") + 1)


# Staff ------------------------------------------------------------------------------------------
def staff_reply(conversation: Conversation, staff, text: str) -> Message:
    text = clean_text(text)
    with transaction.atomic():
        locked = _lock(conversation)
        message = Message.objects.create(conversation=locked, sender=Sender.AGENT, author=staff, text=text)
        fields = {"status": Status.STAFF, "resolved_at": None}
        if locked.assigned_to_id is None:
            fields["assigned_to"] = staff
        _touch(locked, **fields)
    return message


def add_note(conversation: Conversation, staff, text: str) -> InternalNote:
    text = clean_text(text)
    return InternalNote.objects.create(conversation=conversation, author=staff, text=text)


def assign(conversation: Conversation, staff) -> None:
    with transaction.atomic():
        locked = _lock(conversation)
        status = Status.STAFF if locked.status in (Status.WAITING, Status.BOT) else locked.status
        Conversation.objects.filter(pk=locked.pk).update(assigned_to=staff, status=status, revision=F("revision") + 1)


def resolve(conversation: Conversation, staff) -> None:
    with transaction.atomic():
        _lock(conversation)
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Status.RESOLVED, resolved_at=timezone.now(), state={}, misses=0, revision=F("revision") + 1
        )


def rate(conversation: Conversation, *, positive: bool, comment: str = "") -> SatisfactionRating:
    """The shopper's rating of a resolved conversation (one per conversation; a second one replaces it)."""
    if conversation.status != Status.RESOLVED:
        raise ChatError("You can rate the conversation once it is resolved.", "not_resolved")
    comment = (comment or "").strip()
    if len(comment) > MESSAGE_MAX_LENGTH:
        raise ChatError(f"The comment can be at most {MESSAGE_MAX_LENGTH} characters long.", "too_long")
    rating, _ = SatisfactionRating.objects.update_or_create(
        conversation=conversation, defaults={"positive": positive, "comment": comment}
    )
    Conversation.objects.filter(pk=conversation.pk).update(revision=F("revision") + 1)
    return rating
