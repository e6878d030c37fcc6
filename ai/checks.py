"""System checks: bad AI_* settings are refused at start-up (`manage.py check`, runserver, migrate…) with a
message that says what is wrong and what is expected, instead of failing later inside a page or a worker."""
from __future__ import annotations

import math
from typing import Any

from django.core.checks import Error, Tags, register
from django.utils.module_loading import import_string

from .conf import TRAIN_DEVICE_CHOICES as TRAIN_DEVICES
from .conf import AISettings, ai_settings

CONCURRENT_RUNS = ("wait", "refuse")
RATE_SETTINGS = ("BEACON_RATE_LIMIT", "BEACON_RATE_LIMIT_IP", "API_THROTTLE_RATE", "CHAT_RATE_VISITOR", "CHAT_RATE_IP", "CHAT_RATE_POLL")
POSITIVE_SETTINGS = (
    "QUEUE_TIMEOUT_S", "RETRY_WAITING_S", "SWEEP_INTERVAL_S", "HEARTBEAT_TIMEOUT_S", "REGISTRY_POLL_S",
    "VISITOR_COOKIE_AGE_DAYS", "BEACON_MAX_BYTES", "BEACON_MAX_EVENTS", "BATCH_MAX_EVENTS",
    "ATTRIBUTION_WINDOW_HOURS", "MAX_PER_CATEGORY", "DEFAULT_LIMIT", "EVENT_RETENTION_DAYS",
    "CHAT_STAFF_ONLINE_S", "CHAT_POLL_MS",
)


def _error(code: int, name: str, message: str, hint: str = "") -> Error:
    return Error(f"AI_{name}: {message}", hint=hint or None, id=f"ai.E{code:03d}")


def _type_ok(value: Any, annotation: str) -> bool:
    """Whether `value` fits a property's return annotation ("int", "float | None", "list", …)."""
    for part in (p.strip() for p in annotation.split("|")):
        if part == "None" and value is None:
            return True
        if part == "bool" and isinstance(value, bool):
            return True
        if part == "int" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if part == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if part == "str" and isinstance(value, str):
            return True
        if part == "list" and isinstance(value, (list, tuple)):
            return True
        if part == "dict" and isinstance(value, dict):
            return True
    return False


def type_errors() -> list[Error]:
    errors = []
    for name in AISettings.names():
        annotation = getattr(AISettings, name).fget.__annotations__.get("return", "")
        value = getattr(ai_settings, name)
        if not _type_ok(value, annotation):
            errors.append(_error(1, name, f"must be {annotation}, not {type(value).__name__} {value!r}."))
    return errors


def parse_rate(rate: str) -> tuple[int, float]:
    """A DRF rate string ("120/m", "1200/min", "5/second") as (requests, seconds); ValueError when malformed."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    count, sep, period = str(rate).partition("/")
    if not sep or not count.strip().isdigit() or not period.strip() or period.strip()[0] not in units:
        raise ValueError(f"{rate!r} is not a rate: write COUNT/PERIOD, e.g. 120/m (periods: s, m, h, d)")
    return int(count), units[period.strip()[0]]


def value_errors() -> list[Error]:
    errors = []
    for name in RATE_SETTINGS:
        try:
            parse_rate(getattr(ai_settings, name))
        except ValueError as exc:
            errors.append(_error(2, name, str(exc)))
    for name in POSITIVE_SETTINGS:
        value = getattr(ai_settings, name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not (value > 0 and math.isfinite(value)):
            errors.append(_error(3, name, f"must be a positive number, not {value!r}."))
    if ai_settings.TRAIN_DEVICE not in TRAIN_DEVICES:
        errors.append(_error(4, "TRAIN_DEVICE", f"must be one of {', '.join(TRAIN_DEVICES)}, not {ai_settings.TRAIN_DEVICE!r}."))
    if ai_settings.CONCURRENT_RUNS not in CONCURRENT_RUNS:
        errors.append(_error(4, "CONCURRENT_RUNS", f"must be one of {', '.join(CONCURRENT_RUNS)}, not {ai_settings.CONCURRENT_RUNS!r}."))
    share = ai_settings.AB_CANDIDATE_SHARE
    if isinstance(share, (int, float)) and not 0 <= share <= 1:
        errors.append(_error(3, "AB_CANDIDATE_SHARE", f"must be between 0 and 1, not {share!r}."))
    margin = ai_settings.AUTO_PROMOTE_MARGIN
    if isinstance(margin, (int, float)) and not (margin >= 0 and math.isfinite(margin)):
        errors.append(_error(3, "AUTO_PROMOTE_MARGIN", f"must be 0 or more (or None: no automatic promotion), not {margin!r}."))
    return errors


def adapter_errors() -> list[Error]:
    from .adapter import BaseShopAdapter

    path = ai_settings.SHOP_ADAPTER
    if not isinstance(path, str):
        return []  # reported by the type check
    try:
        adapter = import_string(path)
    except ImportError as exc:
        return [_error(5, "SHOP_ADAPTER", f"{path!r} cannot be imported: {exc}", "Name your subclass of ai.adapter.BaseShopAdapter.")]
    if not (isinstance(adapter, type) and issubclass(adapter, BaseShopAdapter)):
        return [_error(6, "SHOP_ADAPTER", f"{path!r} is not a subclass of ai.adapter.BaseShopAdapter.")]
    return []


def cron_errors() -> list[Error]:
    from .schedule import crontab_from_string

    try:
        crontab_from_string(ai_settings.RETRAIN_CRON)
    except (ValueError, TypeError) as exc:
        return [_error(7, "RETRAIN_CRON", str(exc), 'Five fields: minute hour day-of-month month day-of-week, e.g. "30 2 * * *".')]
    return []


def kind_option_errors() -> list[Error]:
    """Every numeric option of every registered kind declares its range (what the API and admin accept)."""
    from .kinds import all_kinds

    errors = []
    for name, kind in sorted(all_kinds().items()):
        for message in kind.option_range_problems():
            errors.append(Error(f"Model kind {name!r}: {message}", id="ai.E008"))
    return errors


@register(Tags.compatibility)
def check_ai_settings(app_configs=None, **kwargs) -> list[Error]:
    errors = type_errors()
    if errors:
        return errors  # the value checks below assume the types are right
    return value_errors() + adapter_errors() + cron_errors() + kind_option_errors()
