"""The widget's endpoints (plain DRF views, served by any WSGI server such as gunicorn):

    GET  /ai/chat/?after=<message id>   the conversation's state and the messages after the cursor
                                         (ETag / If-None-Match: 304 while nothing changed)
    POST /ai/chat/messages/  {"text"}    the shopper's message and the bot's answers
    POST /ai/chat/rating/    {"positive", "comment"}   CSAT once the conversation is resolved

The conversation belongs to the browser's session (its id is kept there, beside the visitor id and, when
signed in, the user), so it survives page changes and reloads. Every write needs the CSRF token, signed
in or not; sending is rate-limited per visitor and per client IP.
"""
from __future__ import annotations

from typing import Literal, overload

from django.utils.http import quote_etag
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from ai.conf import ai_settings
from ai.models import Conversation, Message
from ai.models.chat import MESSAGE_MAX_LENGTH

from . import services

SESSION_KEY = "ai_chat_conversation"


class ChatSessionAuthentication(SessionAuthentication):
    """The shopper's Django session. Unlike DRF's own class, CSRF is enforced on every write, also for
    shoppers who are not signed in."""

    def authenticate(self, request: Request):
        if request.method not in SAFE_METHODS:
            self.enforce_csrf(request)
        user = getattr(request._request, "user", None)
        if user is None or not user.is_active:
            return None
        return user, None


class _ChatThrottle(SimpleRateThrottle):
    setting = ""
    methods: tuple[str, ...] = ("POST",)

    def get_rate(self) -> str:
        return getattr(ai_settings, self.setting)

    def allow_request(self, request, view) -> bool:
        if request.method not in self.methods:
            return True
        return super().allow_request(request, view)


class ChatVisitorThrottle(_ChatThrottle):
    """Messages per shopper: the signed-in user, else the browser's visitor id or session."""

    scope = "ai_chat_visitor"
    setting = "CHAT_RATE_VISITOR"

    def get_cache_key(self, request, view) -> str:
        user = request.user
        if user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            ident = getattr(request._request, "visitor_id", "") or request.session.session_key or self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ChatIPThrottle(_ChatThrottle):
    """Messages per client address (a new visitor id per request does not buy a new allowance)."""

    scope = "ai_chat_ip"
    setting = "CHAT_RATE_IP"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ChatPollThrottle(ChatVisitorThrottle):
    scope = "ai_chat_poll"
    setting = "CHAT_RATE_POLL"
    methods = ("GET",)


def chat_exception_handler(exc, context):
    """ai's own error body, whatever the host project's DRF exception handler is."""
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(int(exc.wait) + 1)
    detail = exc.detail
    fields = detail if isinstance(detail, dict) else {}
    message = str(detail[0] if isinstance(detail, list) and detail else detail) if not fields else "Invalid request."
    if isinstance(exc, exceptions.Throttled):
        message = "You are sending messages too quickly. Please wait a moment."
    body = {"error": {"code": exc.default_code, "message": message, "fields": fields}}
    return Response(body, status=exc.status_code, headers=headers)


def _error(message: str, code: str, http_status: int = 400, fields: dict | None = None) -> Response:
    return Response({"error": {"code": code, "message": message, "fields": fields or {}}}, status=http_status)


class ChatView(APIView):
    authentication_classes = [ChatSessionAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [ChatVisitorThrottle, ChatIPThrottle, ChatPollThrottle]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    schema = None  # the storefront's own endpoints, not part of the merchant API

    def get_exception_handler(self):
        return chat_exception_handler

    def _user_id(self, request: Request) -> int | None:
        return request.user.pk if request.user is not None and request.user.is_authenticated else None

    @overload
    def conversation(self, request: Request, *, create: Literal[True]) -> Conversation: ...

    @overload
    def conversation(self, request: Request, *, create: bool = False) -> Conversation | None: ...

    def conversation(self, request: Request, *, create: bool = False) -> Conversation | None:
        conversation = services.conversation_for(
            request.session.get(SESSION_KEY), visitor_id=getattr(request._request, "visitor_id", ""),
            user_id=self._user_id(request),
        )
        if conversation is None and create:
            conversation = services.start_conversation(
                visitor_id=getattr(request._request, "visitor_id", ""), user_id=self._user_id(request)
            )
            request.session[SESSION_KEY] = conversation.pk
        return conversation


def message_json(message: Message) -> dict:
    data = {
        "id": message.pk,
        "sender": message.sender,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "delivery": message.delivery,
    }
    if message.sender == Message.Sender.AGENT:
        author = message.author
        data["agent_name"] = (author.first_name or author.get_username()) if author else "Staff"
    for key in ("quick_replies", "products", "offline"):
        if key in message.payload:
            data[key] = message.payload[key]
    return data


def state_json(conversation: Conversation | None) -> dict:
    online = services.staff_online()
    if conversation is None:
        return {"status": None, "staff_online": online, "can_rate": False, "rated": False, "read_up_to": 0}
    read = conversation.messages.filter(sender=Message.Sender.SHOPPER, delivery=Message.Delivery.READ)
    return {
        "status": conversation.status,
        "staff_online": online,
        "can_rate": conversation.status == Conversation.Status.RESOLVED,
        "rated": hasattr(conversation, "rating"),
        "read_up_to": read.order_by("-pk").values_list("pk", flat=True).first() or 0,
    }


class ConversationView(ChatView):
    def get(self, request: Request) -> Response:
        try:
            after = max(0, int(request.query_params.get("after", "0")))
        except ValueError:
            return _error("`after` must be a message id.", "invalid", fields={"after": ["Not a number."]})
        conversation = self.conversation(request)
        online = services.staff_online()
        version = f"{conversation.pk}.{conversation.revision}" if conversation else "none"
        etag = quote_etag(f"{version}.{after}.{int(online)}")
        if etag in request.headers.get("If-None-Match", ""):
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
            response["ETag"] = etag
            return response
        messages = services.messages_after(conversation, after) if conversation else []
        if conversation is not None:
            services.mark_delivered(conversation, [m.pk for m in messages if m.delivery == Message.Delivery.SENT])
            conversation.refresh_from_db(fields=["revision"])
            etag = quote_etag(f"{conversation.pk}.{conversation.revision}.{after}.{int(online)}")
        body = {
            "conversation": state_json(conversation),
            "messages": [message_json(m) for m in messages],
            "cursor": messages[-1].pk if messages else after,
        }
        response = Response(body)
        response["ETag"] = etag
        response["Cache-Control"] = "no-cache, private"
        return response


class MessageSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=MESSAGE_MAX_LENGTH, trim_whitespace=True, error_messages={
        "max_length": f"Messages can be at most {MESSAGE_MAX_LENGTH} characters long.",
        "blank": "The message is empty.",
    })


class MessagesView(ChatView):
    def post(self, request: Request) -> Response:
        serializer = MessageSerializer(data=request.data)
        if not serializer.is_valid():
            errors = serializer.errors
            first = next(iter(errors.get("text", [])), "Invalid message.")
            return _error(str(first), "invalid", fields=errors)
        conversation = self.conversation(request, create=True)
        try:
            created = services.post_shopper_message(conversation, serializer.validated_data["text"], user_id=self._user_id(request))
        except services.ChatError as exc:
            return _error(exc.message, exc.code)
        conversation.refresh_from_db()
        body = {
            "conversation": state_json(conversation),
            "messages": [message_json(m) for m in created],
            "cursor": created[-1].pk,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class RatingSerializer(serializers.Serializer):
    positive = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, max_length=MESSAGE_MAX_LENGTH)


class RatingView(ChatView):
    def post(self, request: Request) -> Response:
        serializer = RatingSerializer(data=request.data)
        if not serializer.is_valid():
            return _error("Send positive (true or false) and an optional comment.", "invalid", fields=serializer.errors)
        conversation = self.conversation(request)
        if conversation is None:
            return _error("There is no conversation to rate.", "not_found", status.HTTP_404_NOT_FOUND)
        try:
            services.rate(conversation, **serializer.validated_data)
        except services.ChatError as exc:
            return _error(exc.message, exc.code, status.HTTP_409_CONFLICT)
        return Response({"conversation": state_json(conversation)}, status=status.HTTP_201_CREATED)
