"""The staff inbox (custom admin views in the Django admin's look) and what staff edit for the bot.

Conversations waiting for a person first, then with staff, then bot-only, then resolved. The live view
shows each message with the bot's intent and confidence and polls for new ones; staff with the
`ai.reply_conversation` permission reply (canned responses fill the box), write internal notes,
assign the conversation to themselves and resolve it. Viewing needs `ai.view_conversation`.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from ai.models import AnswerTemplate, CannedResponse, Conversation, FaqEntry, Message, PolicyText

from . import answers, services

REPLY_PERMISSION = "ai.reply_conversation"
INBOX_CSS = {"all": ["ai/admin.css", "ai/chat-inbox.css"]}


def inbox_order():
    return Case(*(When(status=status, then=Value(rank)) for status, rank in Conversation.INBOX_ORDER.items()),
                output_field=IntegerField())


def message_json(message: Message) -> dict:
    author = message.author
    return {
        "id": message.pk,
        "sender": message.sender,
        "author": (author.get_full_name() or author.get_username()) if author else "",
        "text": message.text,
        "intent": message.intent,
        "confidence": None if message.confidence is None else round(message.confidence, 3),
        "delivery": message.delivery,
        "created_at": message.created_at.isoformat(),
        "products": [p.get("title", "") for p in message.payload.get("products", [])],
    }


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "status_badge", "customer", "assigned_to", "last_message_at", "handed_off_at"]
    list_display_links = ["id", "status_badge"]
    list_filter = ["status", "assigned_to"]
    search_fields = ["messages__text", "user__email", "user__username"]
    list_select_related = ["user", "assigned_to"]
    change_form_template = "admin/ai/conversation/live.html"

    class Media:
        css = INBOX_CSS

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(inbox_rank=inbox_order())

    def get_ordering(self, request):
        return [inbox_order().asc(), "-last_message_at", "-pk"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # staff act through the inbox's own buttons, each checked against REPLY_PERMISSION

    @admin.display(description="status", ordering="inbox_rank")
    def status_badge(self, conversation: Conversation):
        return format_html('<strong class="ai-chat-status ai-chat-status-{}">{}</strong>', conversation.status,
                           conversation.get_status_display())

    @admin.display(description="customer")
    def customer(self, conversation: Conversation) -> str:
        user = conversation.user
        if user is not None:
            return user.email or user.get_username()
        return "Guest"

    def changelist_view(self, request, extra_context=None):
        if request.user.has_perm(REPLY_PERMISSION):
            services.mark_staff_seen()
        return super().changelist_view(request, extra_context)

    # The live view and its actions -----------------------------------------------------------------
    def get_urls(self):
        own = [
            path("<int:pk>/poll/", self.admin_site.admin_view(self.poll_view), name="ai_conversation_poll"),
            path("<int:pk>/reply/", self.admin_site.admin_view(self.reply_view), name="ai_conversation_reply"),
            path("<int:pk>/note/", self.admin_site.admin_view(self.note_view), name="ai_conversation_note"),
            path("<int:pk>/assign/", self.admin_site.admin_view(self.assign_view), name="ai_conversation_assign"),
            path("<int:pk>/resolve/", self.admin_site.admin_view(self.resolve_view), name="ai_conversation_resolve"),
        ]
        return own + super().get_urls()

    def _conversation(self, request: HttpRequest, pk: int, *, act: bool = False) -> Conversation:
        if not self.has_view_permission(request):
            raise PermissionDenied
        if act and not request.user.has_perm(REPLY_PERMISSION):
            raise PermissionDenied
        if request.user.has_perm(REPLY_PERMISSION):
            services.mark_staff_seen()
        return get_object_or_404(Conversation.objects.select_related("user", "assigned_to"), pk=pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        conversation = self._conversation(request, int(object_id))
        if request.user.has_perm(REPLY_PERMISSION):
            services.mark_read_by_staff(conversation)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{conversation} · {conversation.get_status_display()}",
            "conversation": conversation,
            "chat_messages": conversation.messages.select_related("author").order_by("pk"),
            "notes": conversation.notes.select_related("author").order_by("pk"),
            "rating": getattr(conversation, "rating", None),
            "can_reply": request.user.has_perm(REPLY_PERMISSION),
            "canned": CannedResponse.objects.all(),
            "poll_url": reverse("admin:ai_conversation_poll", args=[conversation.pk]),
            "media": self.media,
        }
        return TemplateResponse(request, self.change_form_template, context)

    def poll_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        conversation = self._conversation(request, pk)
        try:
            after = max(0, int(request.GET.get("after", "0")))
        except ValueError:
            return JsonResponse({"error": {"code": "invalid", "message": "`after` must be a message id.", "fields": {}}}, status=400)
        if request.user.has_perm(REPLY_PERMISSION):
            services.mark_read_by_staff(conversation)
        new = conversation.messages.select_related("author").filter(pk__gt=after).order_by("pk")[:200]
        delivery = dict(conversation.messages.filter(sender__in=("bot", "agent")).values_list("pk", "delivery"))
        return JsonResponse({
            "status": conversation.status,
            "status_label": conversation.get_status_display(),
            "messages": [message_json(m) for m in new],
            "delivery": {str(pk): state for pk, state in delivery.items()},
        })

    def _back(self, conversation: Conversation) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:ai_conversation_change", args=[conversation.pk]))

    def _with_text(self, request: HttpRequest, pk: int, action) -> HttpResponseRedirect:
        conversation = self._conversation(request, pk, act=True)
        try:
            action(conversation, request.user, request.POST.get("text", ""))
        except services.ChatError as exc:
            messages.error(request, exc.message)
        return self._back(conversation)

    def reply_view(self, request: HttpRequest, pk: int):
        return require_POST(lambda r: self._with_text(r, pk, services.staff_reply))(request)

    def note_view(self, request: HttpRequest, pk: int):
        return require_POST(lambda r: self._with_text(r, pk, services.add_note))(request)

    def assign_view(self, request: HttpRequest, pk: int):
        def act(r):
            conversation = self._conversation(r, pk, act=True)
            services.assign(conversation, r.user)
            messages.success(r, f"{conversation} is assigned to you.")
            return self._back(conversation)

        return require_POST(act)(request)

    def resolve_view(self, request: HttpRequest, pk: int):
        def act(r):
            conversation = self._conversation(r, pk, act=True)
            services.resolve(conversation, r.user)
            messages.success(r, f"{conversation} is resolved; the shopper can now rate it.")
            return self._back(conversation)

        return require_POST(act)(request)


# What staff edit for the bot ------------------------------------------------------------------------
class AnswerTemplateForm(forms.ModelForm):
    class Meta:
        model = AnswerTemplate
        fields = ["intent", "text", "active"]

    def clean_text(self) -> str:
        import string

        text = self.cleaned_data["text"]
        try:
            names = {m.group("named") or m.group("braced") for m in string.Template.pattern.finditer(text)}
        except ValueError:
            names = set()
        unknown = sorted(n for n in names if n and n not in answers.PLACEHOLDERS)
        if unknown:
            raise forms.ValidationError(
                f"Unknown placeholder ${unknown[0]}; use {', '.join('$' + p for p in answers.PLACEHOLDERS)}"
            )
        return text


@admin.register(AnswerTemplate)
class AnswerTemplateAdmin(admin.ModelAdmin):
    form = AnswerTemplateForm
    list_display = ["intent", "active", "preview", "updated_at"]
    list_filter = ["active"]
    search_fields = ["intent", "text"]
    readonly_fields = ["preview", "placeholders"]
    fields = ["intent", "text", "active", "preview", "placeholders"]

    @admin.display(description="preview (with an example order)")
    def preview(self, template: AnswerTemplate) -> str:
        return answers.preview(template.text) if template.text else ""

    @admin.display(description="placeholders")
    def placeholders(self, template: AnswerTemplate) -> str:
        return ", ".join(f"${name}" for name in answers.PLACEHOLDERS)


@admin.register(PolicyText)
class PolicyTextAdmin(admin.ModelAdmin):
    list_display = ["topic", "text", "updated_at"]


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["question", "answer"]


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["title", "text"]
    search_fields = ["title", "text"]
