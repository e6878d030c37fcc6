"""A Redis cache that fails open: while Redis is unreachable, the process's own memory stands in.

Throttling (DRF's throttles, the beacon's and the chat's rate limits) and every other cache user keep
working, per process, instead of answering 500; a warning is logged (once per outage and process), and
Redis is tried again RETRY_AFTER_S seconds later.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("config.cache")

RETRY_AFTER_S = 5.0
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
CACHE_METHODS = ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many", "delete_many",
                 "clear")


def caches_for(redis_url: str) -> dict[str, dict[str, Any]]:
    """The CACHES setting: Redis (failing open) when a URL is given, else the process's memory."""
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "aisle"}}
    return {"default": {
        "BACKEND": "config.cache.FailOpenRedisCache",
        "LOCATION": redis_url,
        # Seconds: a Redis that stops answering costs a request this much at most, then the fallback serves.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
    }}


class FailOpenRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._fallback = LocMemCache(f"fail-open:{server}", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self._down_until = 0.0

    def _unreachable(self, operation: str, exc: BaseException) -> None:
        if self._down_until == 0.0:
            logger.warning("Redis cache unreachable (%s: %s); using this process's memory, retrying every %.0f s",
                           operation, exc, RETRY_AFTER_S)
        self._down_until = time.monotonic() + RETRY_AFTER_S

    def _redis_up(self) -> bool:
        if self._down_until and time.monotonic() >= self._down_until:
            self._down_until = -1.0  # one try; on success the outage ends (logged below)
        return self._down_until <= 0.0


def _fail_open(name: str):
    redis_method = getattr(RedisCache, name)

    def method(self: FailOpenRedisCache, *args, **kwargs):
        if self._redis_up():
            try:
                result = redis_method(self, *args, **kwargs)
            except UNREACHABLE as exc:
                self._unreachable(name, exc)
            else:
                if self._down_until == -1.0:
                    logger.warning("Redis cache reachable again")
                    self._down_until = 0.0
                return result
        return getattr(self._fallback, name)(*args, **kwargs)

    method.__name__ = name
    method.__doc__ = redis_method.__doc__
    return method


for _name in CACHE_METHODS:
    setattr(FailOpenRedisCache, _name, _fail_open(_name))
