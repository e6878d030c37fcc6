"""What the browser beacon may send, and the checks around it (same origin, rate limit, validation).

A beacon body is JSON (sent as text/plain by `navigator.sendBeacon`, or application/json):

    {"events": [
        {"type": "rec_impression", "placement": "product_detail", "model_version": 3, "list_id": "…",
         "product_ids": [12, 7, 31]},
        {"type": "rec_click", "placement": "product_detail", "model_version": 3, "list_id": "…",
         "product_id": 7, "position": 1}
    ]}

`model_version` may be null (a list served without a trained model, e.g. the fallback).
"""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser
from rest_framework.throttling import SimpleRateThrottle

from .api.events import EventInSerializer, id_field, reference_errors
from .conf import ai_settings
from .models import Event, EventType
from .tracking import event_transaction, visitor_id_for

BEACON_EVENT_TYPES = (EventType.REC_IMPRESSION, EventType.REC_CLICK)
PLACEMENT_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")
LIST_ID_MAX_LENGTH = 64
LIST_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{0,64}\Z")
MAX_POSITION = 1000
MAX_PRODUCTS_PER_IMPRESSION = 100
MAX_DEPTH = 8  # a beacon is {"events": [{... "product_ids": [...]}]}: 4 levels; anything much deeper is junk


class BeaconError(Exception):
    """A beacon that cannot be stored; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = errors or {}


def is_same_origin(request: HttpRequest) -> bool:
    """True when the browser says the request comes from this site's own pages.

    Sec-Fetch-Site is decisive when present; otherwise the Origin host, then the Referer host, must equal
    the request's host. A request with none of them is refused (browsers send Origin with every beacon).
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site == "same-origin"
    host = request.get_host().lower()
    origin = request.headers.get("Origin")
    if origin:
        return origin != "null" and urlsplit(origin).netloc.lower() == host
    referer = request.headers.get("Referer")
    if referer:
        return urlsplit(referer).netloc.lower() == host
    return False


def client_ip(request: HttpRequest) -> str:
    """The client's address: the first address of AI_CLIENT_IP_HEADER when a trusted proxy sets it, else REMOTE_ADDR."""
    header = ai_settings.CLIENT_IP_HEADER
    if header:
        forwarded = request.META.get(header, "").split(",")[0].strip()
        if forwarded:
            return forwarded[:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


class BeaconVisitorThrottle(SimpleRateThrottle):
    """AI_BEACON_RATE_LIMIT per visitor id (a request without a valid one is left to the IP throttle)."""

    scope = "ai_beacon_visitor"

    def get_rate(self) -> str:
        return ai_settings.BEACON_RATE_LIMIT

    def get_cache_key(self, request, view) -> str | None:
        visitor_id = visitor_id_for(request._request)
        return self.cache_format % {"scope": self.scope, "ident": visitor_id} if visitor_id else None


class BeaconIPThrottle(SimpleRateThrottle):
    """AI_BEACON_RATE_LIMIT_IP per client IP, whatever cookie the request carries (a fresh visitor id is
    no fresh allowance)."""

    scope = "ai_beacon_ip"

    def get_rate(self) -> str:
        return ai_settings.BEACON_RATE_LIMIT_IP

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request._request)}


class BeaconTooLarge(APIException):
    status_code = 413
    default_code = "too_large"


class BeaconJSONParser(BaseParser):
    """JSON bodies up to AI_BEACON_MAX_BYTES, nested at most MAX_DEPTH deep (sendBeacon sends text/plain)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        max_bytes = ai_settings.BEACON_MAX_BYTES
        request = (parser_context or {}).get("request")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            declared = 0
        if declared > max_bytes:
            raise BeaconTooLarge(f"Beacon too large: at most {max_bytes} bytes.")
        body = stream.read(max_bytes + 1) if stream is not None else b""
        if len(body) > max_bytes:
            raise BeaconTooLarge(f"Beacon too large: at most {max_bytes} bytes.")
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ParseError(f"Body is not valid JSON: {exc}") from exc
        if _depth(payload) > MAX_DEPTH:
            raise ParseError(f"Body is not valid JSON: nested more than {MAX_DEPTH} levels deep.")
        return payload


class BeaconTextParser(BeaconJSONParser):
    media_type = "text/plain"


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


# The browser's names for the events API's fields.
WIRE_NAMES = {"type": "event_type", "model_version": "model_version_id"}
BROWSER_NAMES = {field: key for key, field in WIRE_NAMES.items()}
BEACON_KEYS = ("type", "placement", "model_version", "list_id", "product_ids", "product_id", "position")


class BeaconEventSerializer(EventInSerializer):
    """One beacon event, validated by the events API's own serializer (`POST /api/v1/events/`): the event type,
    placement, product and model version ids follow the very same field rules. On top of them, the beacon's own
    narrower rules: only the browser's event types, a required placement name, a list id, a position and an
    impression's product list. Who the shopper is and when it happened come from the request, never the body."""

    # None removes an inherited field (DRF): the request says who the shopper is and when, never the body.
    visitor_id = None  # type: ignore[assignment]
    user_id = None  # type: ignore[assignment]
    query = None  # type: ignore[assignment]
    extra = None  # type: ignore[assignment]
    created_at = None  # type: ignore[assignment]
    list_id = serializers.RegexField(LIST_ID_RE, required=False, allow_blank=True, default="", error_messages={
        "invalid": f"Must be at most {LIST_ID_MAX_LENGTH} letters, digits, '_', '-', '.' or ':'."})
    position = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0, max_value=MAX_POSITION - 1)
    product_ids = serializers.ListField(
        child=id_field(), required=False, allow_empty=False, max_length=MAX_PRODUCTS_PER_IMPRESSION,
        error_messages={"empty": "Give 1 to {max_length} product ids.".replace("{max_length}", str(MAX_PRODUCTS_PER_IMPRESSION))},
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"event": ["Must be an object."]})
        fields = {WIRE_NAMES.get(key, key): value for key, value in data.items() if key in BEACON_KEYS}
        if fields.get("model_version_id") == "":
            fields["model_version_id"] = None  # a list served without a trained model
        try:
            return super().to_internal_value(fields)
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"event": exc.detail}
            raise serializers.ValidationError({BROWSER_NAMES.get(key, key): value for key, value in detail.items()}) from None

    def validate_event_type(self, value: str) -> str:
        if value not in BEACON_EVENT_TYPES:
            raise serializers.ValidationError(f"Must be one of {', '.join(BEACON_EVENT_TYPES)}.")
        return value

    def validate_placement(self, value: str) -> str:
        if not PLACEMENT_RE.match(value):
            raise serializers.ValidationError("Required: 1 to 64 letters, digits, '_', '-', '.' or ':'.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["event_type"] == EventType.REC_IMPRESSION and not attrs.get("product_ids"):
            raise serializers.ValidationError({"product_ids": [f"Required: a list of 1 to {MAX_PRODUCTS_PER_IMPRESSION} product ids."]})
        if attrs["event_type"] == EventType.REC_CLICK and attrs.get("product_id") is None:
            raise serializers.ValidationError({"product_id": ["Required: a product id."]})
        return attrs

    def to_row(self) -> dict[str, Any]:
        """The Event fields of a valid beacon event."""
        data = self.validated_data
        row: dict[str, Any] = {key: data[key] for key in ("event_type", "placement", "model_version_id")}
        if data["event_type"] == EventType.REC_IMPRESSION:
            row["extra"] = {"list_id": data["list_id"], "product_ids": data["product_ids"]}
        else:
            row["product_id"] = data["product_id"]
            position = data["position"]
            row["extra"] = {"list_id": data["list_id"]} | ({"position": position} if position is not None else {})
        return row


def _errors(detail: Any) -> dict[str, str]:
    """A serializer's errors as {field: message} (a list's errors joined, an item's index named)."""
    def text(value: Any) -> str:
        if isinstance(value, dict):
            return " ".join(f"{key}: {text(item)}" for key, item in value.items())
        if isinstance(value, list):
            return " ".join(text(item) for item in value)
        return str(value)

    return {str(field): text(value) for field, value in detail.items()}


def parse_beacon(payload: Any) -> list[dict[str, Any]]:
    """Validated event rows from a parsed beacon body, or BeaconError (400) saying what is wrong.

    Each event is validated by BeaconEventSerializer (the events API's serializer with the beacon's rules on
    top); products and model versions must exist: checked with the events API's own `reference_errors`."""
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise BeaconError('Body must be a JSON object {"events": [...]}.')
    items = payload["events"]
    max_events = ai_settings.BEACON_MAX_EVENTS
    if not items:
        raise BeaconError("No events.")
    if len(items) > max_events:
        raise BeaconError(f"Too many events: at most {max_events} per beacon.")
    rows: list[dict[str, Any]] = []
    errors: dict[str, dict[str, str]] = {}
    for index, item in enumerate(items):
        serializer = BeaconEventSerializer(data=item)
        if serializer.is_valid():
            rows.append(serializer.to_row())
        else:
            errors[str(index)] = _errors(serializer.errors)
    if errors:
        raise BeaconError("Invalid events; nothing was stored.", errors=errors)
    _check_references(rows)
    return rows


def _check_references(rows: list[dict[str, Any]]) -> None:
    """Unknown model versions or products (a click's product, every product of an impression) refuse the beacon."""
    # One row per product id named, so that impressions' lists are checked like clicks.
    named = [{"model_version_id": row["model_version_id"], "product_id": row.get("product_id")} for row in rows]
    named += [{"product_id": pid} for row in rows for pid in row.get("extra", {}).get("product_ids", [])]
    errors = reference_errors(named)
    if errors:
        messages = sorted({message for fields in errors.values() for texts in fields.values() for message in texts})
        raise BeaconError(" ".join(messages))


def store_beacon_events(rows: list[dict[str, Any]], *, visitor_id: str, user_id: int | None) -> int:
    now = timezone.now()
    events = [
        Event(visitor_id=visitor_id, user_id=user_id, created_at=now, **row) for row in rows
    ]
    with event_transaction():
        Event.objects.bulk_create(events)
    return len(events)
