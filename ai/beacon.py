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
import time
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from .conf import ai_settings
from .models import Event, EventType, ModelVersion
from .tracking import event_transaction

BEACON_EVENT_TYPES = (EventType.REC_IMPRESSION, EventType.REC_CLICK)
PLACEMENT_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
LIST_ID_MAX_LENGTH = 64
LIST_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{0,64}$")
MAX_POSITION = 1000
MAX_PRODUCTS_PER_IMPRESSION = 100
MAX_ID = 2**63  # ids are stored in 64-bit integer columns
RATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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


def parse_rate(rate: str) -> tuple[int, int]:
    """"120/m" → (120, 60)."""
    try:
        count, unit = rate.split("/")
        return int(count), RATE_UNITS[unit.strip().lower()[0]]
    except (ValueError, KeyError, IndexError) as exc:
        raise ValueError(f"Invalid rate {rate!r}: use COUNT/s, COUNT/m, COUNT/h or COUNT/d") from exc


def _now() -> float:
    return time.time()


def over_rate_limit(ident: str, rate: str | None = None) -> bool:
    """Count one hit for `ident` in the current fixed window; True once it exceeds the rate."""
    limit, period = parse_rate(rate or ai_settings.BEACON_RATE_LIMIT)
    key = f"ai:beacon:{ident}:{int(_now() // period)}"
    if cache.add(key, 1, timeout=period + 1):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 1)
        count = 1
    return count > limit


def read_body(request: HttpRequest) -> bytes:
    """The body, refusing (413) anything over AI_BEACON_MAX_BYTES without reading it all."""
    max_bytes = ai_settings.BEACON_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        raise BeaconError(f"Beacon too large: at most {max_bytes} bytes.", status=413)
    body = request.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise BeaconError(f"Beacon too large: at most {max_bytes} bytes.", status=413)
    return body


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


def parse_beacon(body: bytes) -> list[dict[str, Any]]:
    """Validated event rows from a beacon body, or BeaconError (400) saying what is wrong."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BeaconError(f"Body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise BeaconError('Body must be a JSON object {"events": [...]}.')
    items = payload["events"]
    max_events = ai_settings.BEACON_MAX_EVENTS
    if not items:
        raise BeaconError("No events.")
    if len(items) > max_events:
        raise BeaconError(f"Too many events: at most {max_events} per beacon.")
    rows, errors = [], {}
    for index, item in enumerate(items):
        row, row_errors = _validate_event(item)
        if row_errors:
            errors[str(index)] = row_errors
        else:
            rows.append(row)
    if errors:
        raise BeaconError("Invalid events; nothing was stored.", errors=errors)
    version_ids = {row["model_version_id"] for row in rows} - {None}
    if version_ids:
        known = set(ModelVersion.objects.filter(pk__in=version_ids).values_list("pk", flat=True))
        unknown = version_ids - known
        if unknown:
            raise BeaconError(f"Unknown model version(s): {', '.join(map(str, sorted(unknown)))}.")
    return rows


def store_beacon_events(rows: list[dict[str, Any]], *, visitor_id: str, user_id: int | None) -> int:
    now = timezone.now()
    events = [
        Event(visitor_id=visitor_id, user_id=user_id, created_at=now, **row) for row in rows
    ]
    with event_transaction():
        Event.objects.bulk_create(events)
    return len(events)
