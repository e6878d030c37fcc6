"""Merchant API keys: created once, shown once, stored hashed."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from shop.models import ApiKey, Merchant

KEY_PREFIX = "ak_"


def hash_key(raw_key: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_api_key(merchant: Merchant, scope: str = ApiKey.Scope.READ, name: str = "") -> tuple[ApiKey, str]:
    """Create a key and return it with the raw key, which is never stored and cannot be shown again."""
    if scope not in ApiKey.Scope.values:
        raise ValueError(f"Unknown scope {scope!r}: choose one of {', '.join(ApiKey.Scope.values)}")
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        merchant=merchant, name=name, scope=scope, prefix=raw_key[: len(KEY_PREFIX) + 8], hashed_key=hash_key(raw_key)
    )
    return api_key, raw_key


def find_active_key(raw_key: str) -> ApiKey | None:
    api_key = (
        ApiKey.objects.select_related("merchant")
        .filter(hashed_key=hash_key(raw_key), revoked_at__isnull=True)
        .first()
    )
    return api_key


def revoke(api_key: ApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


# last_used_at is written at most once a minute per key, so a busy key costs no write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def touch(api_key: ApiKey) -> None:
    """Record that the key was used (cheaply: one conditional UPDATE at most once a minute)."""
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    api_key.last_used_at = now
