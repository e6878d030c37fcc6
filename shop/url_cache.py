"""`reverse()` remembered for the links every storefront card repeats (product, category, placeholder picture).

A product grid builds the same URLs on every page, and `reverse()` costs far more than a dictionary look-up.
A URL depends only on the URL name, its arguments, the URLconf and the script prefix, so the cache is keyed
by all four and never goes stale; its size is bounded (least recently used out).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

MAX_URLS = 50_000


@lru_cache(maxsize=MAX_URLS)
def _reverse(prefix: str, urlconf: str, name: str, kwargs: tuple[tuple[str, Any], ...]) -> str:
    return reverse(name, kwargs=dict(kwargs), urlconf=urlconf)


def cached_reverse(name: str, **kwargs: Any) -> str:
    """`reverse(name, kwargs=kwargs)`, from the cache after the first time."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _reverse(get_script_prefix(), urlconf, name, tuple(sorted(kwargs.items())))


def bound_reverse() -> Callable[..., str]:
    """`cached_reverse` with the URLconf and script prefix read once, now: for building many URLs in one
    go (reading them is a thread-local look-up each, which costs more than the cached URL itself)."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    prefix = get_script_prefix()

    def reverse_bound(name: str, **kwargs: Any) -> str:
        return _reverse(prefix, urlconf, name, tuple(sorted(kwargs.items())))

    return reverse_bound
