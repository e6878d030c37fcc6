"""`Idempotency-Key` for creating requests.

A POST sent with `Idempotency-Key: <key>` runs in one transaction together with the record of its
response. A retry with the same key and the same body gets the stored response again (with
`Idempotent-Replayed: true`) and creates nothing; the same key with another body is refused (422).
Only successful responses are stored: a request that failed created nothing, so retrying it is harmless.
Keys are per API key (or per staff user), method and path.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import transaction
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from shop.api.exceptions import IdempotencyKeyReused
from shop.api.permissions import key_of
from shop.models import ApiKey, IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def _request_hash(request) -> str:
    canonical = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def _owner(request) -> dict[str, Any]:
    api_key = key_of(request)
    if api_key is not None:
        return {"api_key": api_key, "user": None}
    return {"api_key": None, "user": request.user}


def _lock_owner(owner: dict[str, Any]) -> None:
    if owner["api_key"] is not None:
        ApiKey.objects.select_for_update().filter(pk=owner["api_key"].pk).first()
    else:
        type(owner["user"]).objects.select_for_update().filter(pk=owner["user"].pk).first()


def _replay(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused()
    response = Response(record.response_body, status=record.status_code)
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a POST handler of a DRF view so that it honours `Idempotency-Key`."""

    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationError({HEADER: [f"Send 1 to {MAX_KEY_LENGTH} characters."]})
        owner = _owner(request)
        lookup = {**owner, "key": key, "method": request.method, "path": request.path[:500]}
        request_hash = _request_hash(request)
        with transaction.atomic():
            # Serialise idempotent requests of one owner: the check, the work and the record are one unit,
            # so two concurrent retries cannot both create (the unique constraint cannot see NULL owners).
            _lock_owner(owner)
            record = IdempotencyRecord.objects.filter(**lookup).first()
            if record is not None:
                return _replay(record, request_hash)
            response = view_method(self, request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                body = json.loads(JSONRenderer().render(response.data) or b"null")
                IdempotencyRecord.objects.create(
                    **lookup, request_hash=request_hash, status_code=response.status_code, response_body=body
                )
        return response

    return wrapper
