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
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser
from rest_framework.throttling import SimpleRateThrottle

from .conf import ai_settings
from .models import Event, EventType
from .tracking import event_transaction, visitor_id_for

BEACON_EVENT_TYPES = (EventType.REC_IMPRESSION, EventType.REC_CLICK)
PLACEMENT_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
LIST_ID_MAX_LENGTH = 64
LIST_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{0,64}$")
MAX_POSITION = 1000
MAX_PRODUCTS_PER_IMPRESSION = 100
MAX_ID = 2**63  # ids are stored in 64-bit integer columns
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


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and 0 < value < MAX_ID else None


def _validate_event(item: Any) -> tuple[dict[str, Any] | None, dict[str, str]]:
    if not isinstance(item, dict):
        return None, {"event": "must be an object"}
    errors: dict[str, str] = {}
    event_type = item.get("type")
    if event_type not in BEACON_EVENT_TYPES:
        errors["type"] = f"must be one of {', '.join(BEACON_EVENT_TYPES)}"
    placement = item.get("placement")
    if not isinstance(placement, str) or not PLACEMENT_RE.match(placement):
        errors["placement"] = "required: 1 to 64 letters, digits, '_', '-', '.' or ':'"
    model_version = item.get("model_version")
    if model_version in (None, ""):
        model_version = None
    elif _positive_int(model_version) is None:
        errors["model_version"] = "must be a model version id or null"
    else:
        model_version = _positive_int(model_version)
    list_id = item.get("list_id", "")
    if not isinstance(list_id, str) or not LIST_ID_RE.match(list_id):
        errors["list_id"] = f"must be at most {LIST_ID_MAX_LENGTH} letters, digits, '_', '-', '.' or ':'"
    row: dict[str, Any] = {"event_type": event_type, "placement": placement, "model_version_id": model_version}
    if event_type == EventType.REC_IMPRESSION:
        ids = item.get("product_ids")
        parsed = [_positive_int(v) for v in ids] if isinstance(ids, list) else []
        if not parsed or None in parsed or len(parsed) > MAX_PRODUCTS_PER_IMPRESSION:
            errors["product_ids"] = f"required: a list of 1 to {MAX_PRODUCTS_PER_IMPRESSION} product ids"
        row["extra"] = {"list_id": list_id, "product_ids": parsed}
    elif event_type == EventType.REC_CLICK:
        row["product_id"] = _positive_int(item.get("product_id"))
        if row["product_id"] is None:
            errors["product_id"] = "required: a product id"
        position = item.get("position")
        if position is not None and (
            isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < MAX_POSITION
        ):
            errors["position"] = f"must be an integer from 0 to {MAX_POSITION - 1}"
        row["extra"] = {"list_id": list_id} | ({"position": position} if position is not None else {})
    return (None if errors else row), errors


def parse_beacon(payload: Any) -> list[dict[str, Any]]:
    """Validated event rows from a parsed beacon body, or BeaconError (400) saying what is wrong.

    Products and model versions must exist: checked with the events API's own `reference_errors`."""
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
        row, row_errors = _validate_event(item)
        if row_errors:
            errors[str(index)] = row_errors
        elif row is not None:
            rows.append(row)
    if errors:
        raise BeaconError("Invalid events; nothing was stored.", errors=errors)
    _check_references(rows)
    return rows


def _check_references(rows: list[dict[str, Any]]) -> None:
    """Unknown model versions or products (a click's product, every product of an impression) refuse the beacon."""
    from .api.events import reference_errors

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
