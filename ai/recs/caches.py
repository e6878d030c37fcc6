"""In-process caches of the serving layer: `cachetools` caches behind one lock each.

Every cache made here is registered, so that `clear_all()` (tests, bulk catalogue changes) forgets
them all at once. Values are computed outside the lock: two requests may compute the same value once
each on a cold cache, but a slow computation never blocks the other keys.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from cachetools import LRUCache, TLRUCache, TTLCache

V = TypeVar("V")
_MISSING = object()
_registered: list[Locked] = []


class Locked(Generic[V]):
    """A cachetools cache made safe to share between a server's threads."""

    def __init__(self, cache: Any):
        self._cache = cache
        self._lock = threading.Lock()
        _registered.append(self)

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            return self._cache.get(key, default)

    def set(self, key: Hashable, value: V) -> V:
        with self._lock:
            self._cache[key] = value
        return value

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = self.set(key, compute())
        return value

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)


def lru(maxsize: int) -> Locked:
    """Least-recently-used eviction beyond `maxsize` entries."""
    return Locked(LRUCache(maxsize=maxsize))


def ttl(maxsize: int, seconds: float) -> Locked:
    """Entries expire `seconds` after they were stored."""
    return Locked(TTLCache(maxsize=maxsize, ttl=seconds))


def ttl_from(maxsize: int, seconds: Callable[[], float]) -> Locked:
    """Entries expire after `seconds()` (read when each entry is stored: a setting may change it)."""
    return Locked(TLRUCache(maxsize=maxsize, ttu=lambda _key, _value, now: now + float(seconds())))


def clear_all() -> None:
    for cache in _registered:
        cache.clear()
