"""The support chat: conversations and their messages, and what staff edit (answers, policies, FAQ,
canned responses); internal notes and the shopper's satisfaction rating."""
from __future__ import annotations

from django.conf import settings
from django.db import models

MESSAGE_MAX_LENGTH = 1000


class Conversation(models.Model):
    class Status(models.TextChoices):
        BOT = "bot", "With the bot"
        WAITING = "waiting", "Waiting for a person"
        STAFF = "staff", "With staff"
        RESOLVED = "resolved", "Resolved"

    # Inbox order: waiting for a human first, then with staff, then bot-only, then resolved.
    INBOX_ORDER = {Status.WAITING: 0, Status.STAFF: 1, Status.BOT: 2, Status.RESOLVED: 3}

    visitor_id = models.CharField(max_length=64, blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="support_conversations"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOT, db_index=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Dialogue state: consecutive messages the bot did not understand, a pending action awaiting the
    # shopper's explicit confirmation, and the orders a guest proved with number + e-mail.
    misses = models.PositiveSmallIntegerField(default=0)
    state = models.JSONField(default=dict, blank=True)
    handed_off_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Bumped on every change the widget shows (a message, a status, a delivery state): the ETag.
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        permissions = [("reply_conversation", "Can reply to shoppers in the support inbox")]

    def __str__(self) -> str:
        return f"Conversation #{self.pk}"


class Message(models.Model):
    class Sender(models.TextChoices):
        SHOPPER = "shopper", "Shopper"
        BOT = "bot", "Bot"
        AGENT = "agent", "Agent"

    class Delivery(models.TextChoices):
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=8, choices=Sender.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    # What the bot understood (shopper messages) or answered for (bot messages).
    intent = models.CharField(max_length=64, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    entities = models.JSONField(default=dict, blank=True)
    # Product cards and quick replies shown with a bot message.
    payload = models.JSONField(default=dict, blank=True)
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.SENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["conversation", "id"])]

    def __str__(self) -> str:
        return f"{self.sender}: {self.text[:40]}"


class InternalNote(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]


class SatisfactionRating(models.Model):
    """The shopper's CSAT at resolution: thumbs up or down and an optional comment."""

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="rating")
    positive = models.BooleanField()
    comment = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)


class AnswerTemplate(models.Model):
    """The bot's answer for an intent, written by staff. `$name` placeholders are filled from shop data
    (see `ai.chat.answers.PLACEHOLDERS`)."""

    intent = models.CharField(max_length=64, unique=True)
    text = models.TextField()
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["intent"]

    def __str__(self) -> str:
        return self.intent


class PolicyText(models.Model):
    class Topic(models.TextChoices):
        RETURNS = "returns", "Returns and refunds"
        DELIVERY = "delivery", "Delivery options and costs"
        PAYMENT = "payment", "Payment methods"

    topic = models.CharField(max_length=16, choices=Topic.choices, unique=True)
    text = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["topic"]
        verbose_name_plural = "policy texts"

    def __str__(self) -> str:
        return self.get_topic_display()


class FaqEntry(models.Model):
    question = models.CharField(max_length=300)
    answer = models.TextField()
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["question"]
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return self.question


class CannedResponse(models.Model):
    title = models.CharField(max_length=100, unique=True)
    text = models.TextField()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
