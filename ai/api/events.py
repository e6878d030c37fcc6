"""`POST /api/v1/events/`: a headless shop sends its shoppers' events in batches, all or nothing."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ..adapter import ApiClient
from ..conf import ai_settings
from ..models import ModelVersion
from ..tracking import (
    EVENT_NAME_RE,
    OPTED_OUT,
    PLACEMENT_MAX_LENGTH,
    QUERY_MAX_LENGTH,
    VISITOR_ID_MAX_LENGTH,
    record_events_bulk,
)
from . import scopes
from .base import AiApiMixin, client_of
from .permissions import StaffPermissionOrScope

MAX_ID = 2**63 - 1  # ids are stored in 64-bit columns
EXTRA_MAX_KEYS = 20
EXTRA_MAX_CHARS = 2000
FUTURE_TOLERANCE = timedelta(minutes=5)


def id_field(**kwargs: Any) -> serializers.IntegerField:
    """A user, product or model version id: the one rule for ids sent by the events API and the beacon."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class EventInSerializer(serializers.Serializer):
    event_type = serializers.RegexField(
        EVENT_NAME_RE,
        max_length=32,
        # DRF formats error messages with str.format: the pattern's braces ({1,32}) must be doubled.
        error_messages={"invalid": "Unknown event type: use a known type or a name matching "
                        + EVENT_NAME_RE.pattern.replace("{", "{{").replace("}", "}}") + "."},
        help_text="view, search, add_to_cart, remove_from_cart, purchase, rec_impression, rec_click, "
        "or a name of your own (lower-case letters and underscores).",
    )
    visitor_id = serializers.CharField(
        max_length=VISITOR_ID_MAX_LENGTH, required=False, allow_blank=True, default="",
        help_text="The shopper's anonymous id in your shop. Each event needs a visitor_id or a user_id.",
    )
    user_id = id_field(required=False, allow_null=True, default=None)
    product_id = id_field(required=False, allow_null=True, default=None)
    query = serializers.CharField(
        max_length=QUERY_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    placement = serializers.CharField(
        max_length=PLACEMENT_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    model_version_id = id_field(required=False, allow_null=True, default=None)
    extra = serializers.DictField(
        required=False, default=dict,
        help_text=f"Small JSON object (at most {EXTRA_MAX_KEYS} keys, {EXTRA_MAX_CHARS} characters).",
    )
    created_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="When it happened; defaults to now."
    )

    def validate_extra(self, value: dict) -> dict:
        encoded = json.dumps(value)
        if len(value) > EXTRA_MAX_KEYS or len(encoded) > EXTRA_MAX_CHARS:
            raise serializers.ValidationError(f"Too big: at most {EXTRA_MAX_KEYS} keys and {EXTRA_MAX_CHARS} characters.")
        if "\\u0000" in encoded:  # PostgreSQL's jsonb cannot store NUL characters
            raise serializers.ValidationError("Null characters are not allowed.")
        return value

    def validate_created_at(self, value):
        if value is not None and value > timezone.now() + FUTURE_TOLERANCE:
            raise serializers.ValidationError("Is in the future.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("event_type") == OPTED_OUT:
            raise serializers.ValidationError({"event_type": f"{OPTED_OUT!r} is reserved: ai records it itself."})
        if not attrs.get("visitor_id") and attrs.get("user_id") is None:
            raise serializers.ValidationError({"visitor_id": "Give a visitor_id or a user_id."})
        return attrs


class EventBatchSerializer(serializers.Serializer):
    events = serializers.ListField(
        child=EventInSerializer(), allow_empty=False, max_length=1000,
        help_text="1 to AI_BATCH_MAX_EVENTS (default 1000) events.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events"].max_length = ai_settings.BATCH_MAX_EVENTS


class EventBatchResultSerializer(serializers.Serializer):
    stored = serializers.IntegerField(help_text="How many events were stored (all of them).")


class EventsErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    # The error body's key; as a declared field it only shadows Serializer.fields for mypy.
    fields = serializers.DictField(required=False, help_text='For a batch: {"events": {"<row index>": {field: [errors]}}}.')  # type: ignore[assignment]


class EventsErrorSerializer(serializers.Serializer):
    error = EventsErrorDetailSerializer()


def _existing_user_ids(ids: set[int]) -> set[int]:
    User = get_user_model()
    # The user table's key may be 32-bit: an id past its range cannot exist (and must not reach the query).
    low, high = connection.ops.integer_field_range(User._meta.pk.get_internal_type())
    in_range = {pk for pk in ids if (low is None or pk >= low) and (high is None or pk <= high)}
    return set(User.objects.filter(pk__in=in_range).values_list("pk", flat=True)) if in_range else set()


def reference_errors(rows: list[dict[str, Any]], client: ApiClient | None = None) -> dict[str, dict[str, list[str]]]:
    """Rows naming users, products or model versions the caller may not send events about (one query each).

    Staff may name any existing user and product. An API client only its own products and the shoppers it
    knows (adapter.api_client_product_ids / api_client_user_ids); the message is the same whether the id
    does not exist or belongs to someone else, so that it cannot be used to learn which ids exist."""
    adapter = ai_settings.adapter()
    checks: dict[str, tuple[Any, str]] = {
        "model_version_id": (lambda ids: set(ModelVersion.objects.filter(pk__in=ids).values_list("pk", flat=True)), "Unknown model version"),
    }
    if client is None:
        checks["user_id"] = (_existing_user_ids, "Unknown user")
        checks["product_id"] = (lambda ids: set(adapter.get_products(sorted(ids))), "Unknown product")
    else:
        checks["user_id"] = (lambda ids: set(adapter.api_client_user_ids(client, ids)), "Not a customer of yours")
        checks["product_id"] = (lambda ids: set(adapter.api_client_product_ids(client, ids)), "Not a product of yours")
    errors: dict[str, dict[str, list[str]]] = {}
    for field, (allowed, message) in checks.items():
        wanted = {row[field] for row in rows if row.get(field) is not None}
        if not wanted:
            continue
        refused = wanted - allowed(wanted)
        for index, row in enumerate(rows):
            if row.get(field) in refused:
                errors.setdefault(str(index), {})[field] = [f"{message}: {row[field]}."]
    return errors


def _bad_rows(errors: Any) -> dict[str, Any]:
    """The per-row errors of a batch, keyed by row index, leaving out the good rows."""
    if isinstance(errors, list):
        return {str(index): row for index, row in enumerate(errors) if row}
    if isinstance(errors, dict):
        return {str(index): row for index, row in errors.items()}
    return errors


def _rows_invalid(bad: dict[str, Any], total: int) -> ValidationError:
    return ValidationError(
        {
            "non_field_errors": [f"{len(bad)} of {total} events are invalid; nothing was stored."],
            "events": dict(sorted(bad.items(), key=lambda item: int(item[0]))),
        }
    )


class EventBatchView(AiApiMixin, APIView):
    permission_classes = [StaffPermissionOrScope]
    access = {"POST": ("ai.add_event", scopes.EVENTS)}

    @extend_schema(
        operation_id="events_batch_create",
        tags=["ai"],
        summary="Record a batch of shopper events",
        description=(
            "Stores up to AI_BATCH_MAX_EVENTS (default 1000) events in one transaction. The batch is validated "
            "as a whole: if any event is invalid (bad field, unknown user, product or model version), the "
            "answer is 400 listing the bad rows by index and nothing is stored. Staff with the permission "
            "ai.add_event, or an API client with the `events` scope (Aisle: keys with the `write` or `ai` scope). "
            "An API client may name only its own products and the shoppers it knows (customers of its orders); "
            "each event records the client that sent it, and its events stay out of shop-wide popularity unless "
            "staff allowed it (the key's shop-wide events grant, or AI_API_EVENTS_IN_POPULARITY)."
        ),
        request=EventBatchSerializer,
        responses={
            201: EventBatchResultSerializer,
            400: OpenApiResponse(EventsErrorSerializer, description="Invalid batch; nothing was stored."),
            401: OpenApiResponse(EventsErrorSerializer, description="No or invalid credentials."),
            403: OpenApiResponse(EventsErrorSerializer, description="A staff member without ai.add_event, or a client without the events scope."),
            429: OpenApiResponse(EventsErrorSerializer, description="Throttled."),
            413: OpenApiResponse(EventsErrorSerializer, description="Body too large."),
        },
        examples=[
            OpenApiExample(
                "Two events",
                request_only=True,
                value={
                    "events": [
                        {"event_type": "view", "visitor_id": "3f2a…", "product_id": 42},
                        {"event_type": "add_to_cart", "user_id": 7, "product_id": 42,
                         "created_at": "2026-11-29T10:15:00Z"},
                    ]
                },
            )
        ],
    )
    def post(self, request):
        events = request.data.get("events") if isinstance(request.data, dict) else None
        max_events = ai_settings.BATCH_MAX_EVENTS
        if isinstance(events, list) and len(events) > max_events:
            # Refuse before validating thousands of rows one by one.
            raise ValidationError({"events": [f"At most {max_events} events per batch; got {len(events)}."]})
        serializer = EventBatchSerializer(data=request.data)
        if not serializer.is_valid():
            errors = dict(serializer.errors)
            if isinstance(errors.get("events"), (list, dict)) and isinstance(events, list):
                bad = _bad_rows(errors["events"])
                if bad and all(key.isdigit() for key in bad):
                    raise _rows_invalid(bad, len(events))
            raise ValidationError(errors)
        rows = serializer.validated_data["events"]
        client = client_of(request)
        bad = reference_errors(rows, client)
        if bad:
            raise _rows_invalid(bad, len(rows))
        if client is not None:
            shop_wide = ai_settings.API_EVENTS_IN_POPULARITY or scopes.EVENTS_SHOP_WIDE in client.scopes
            rows = [{**row, "source": client.id[:64], "shop_wide": shop_wide} for row in rows]
        stored = record_events_bulk(rows)
        return Response({"stored": stored}, status=status.HTTP_201_CREATED)
