"""The plug-in's settings, read through one object with documented defaults.

Every setting is `AI_<NAME>` in the host project's Django settings; `ai_settings.NAME` reads it.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULTS: dict[str, Any] = {
    # Dotted path of the class through which the plug-in reaches the host shop.
    "SHOP_ADAPTER": "ai.adapter.BaseShopAdapter",
    # auto | cpu | cuda. auto takes CUDA (with bf16 autocast) when present, else the CPU.
    "TRAIN_DEVICE": "auto",
    # Threads for CPU training; 0 means one per core.
    "TRAIN_CPU_THREADS": 0,
    # Cron (minute hour day month weekday) of the periodic retraining, and the kinds it trains.
    "RETRAIN_CRON": "30 2 * * *",
    "RETRAIN_KINDS": ["popularity", "cooccurrence", "sasrec", "content"],
    # A run that has not beaten its heartbeat for this many seconds is failed by the sweep.
    "HEARTBEAT_TIMEOUT_S": 120,
    # A candidate is promoted automatically when its primary metric beats the live one by this margin
    # (relative: 0.02 means 2% better). None turns automatic promotion off.
    "AUTO_PROMOTE_MARGIN": 0.0,
    # Where artifacts are stored, through Django's storage API (a STORAGES alias).
    "ARTIFACT_STORAGE": "default",
    "ARTIFACT_PREFIX": "ai-models",
    # How often (seconds) a serving process checks the registry for a promotion or rollback.
    "REGISTRY_POLL_S": 2.0,
    # Behaviour capture.
    "TRACKING_ENABLED": True,
    # On PostgreSQL, commit event writes without waiting for the WAL flush (synchronous_commit=off for those
    # transactions only): a page no longer waits ~ms for an fsync per event; a database crash may lose the last
    # fraction of a second of events, never corrupt anything. Writes inside the page's own transaction keep its mode.
    "TRACKING_ASYNC_COMMIT": True,
    "VISITOR_COOKIE": "aisle_vid",
    "VISITOR_COOKIE_AGE_DAYS": 365,
    "OPT_OUT_COOKIE": "aisle_optout",
    # Events older than this many days are deleted by the periodic purge (None: kept until `ai_purge_events`).
    "EVENT_RETENTION_DAYS": None,
    "BEACON_MAX_BYTES": 16 * 1024,
    "BEACON_MAX_EVENTS": 50,
    "BEACON_RATE_LIMIT": "120/m",
    "BATCH_MAX_EVENTS": 1000,
    # Recommendations.
    "ATTRIBUTION_WINDOW_HOURS": 24,
    "REPEAT_PURCHASE_CATEGORIES": [],
    "MAX_PER_CATEGORY": 3,
    "DEFAULT_LIMIT": 8,
    # Shown before prices in the recommendation block.
    "CURRENCY_SYMBOL": "£",
    # Share (0..1) of visitors served the A/B candidate version, when an experiment is on.
    "AB_CANDIDATE_SHARE": 0.0,
    # Support chat: send rates per visitor and per client IP (DRF rate strings), how recently staff must
    # have had the inbox open to count as online, how often the open widget polls (ms), and where
    # `ai_seed_intents` reads the seed intents (CSV text,label,split) from.
    "CHAT_RATE_VISITOR": "20/min",
    "CHAT_RATE_IP": "60/min",
    "CHAT_RATE_POLL": "300/min",
    "CHAT_STAFF_ONLINE_S": 120,
    "CHAT_POLL_MS": 1000,
    "CHAT_INTENTS_LABEL_SET": "chat-intents",
    "CHAT_SEED_INTENTS_FILE": "../shared/data/intents/bitext-support.csv",
}

IMPORT_STRINGS = {"SHOP_ADAPTER"}


class AISettings:
    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown AI setting: {name}")
        value = getattr(settings, f"AI_{name}", DEFAULTS[name])
        return value

    def adapter(self):
        """The host shop's adapter instance (a new one each call: adapters are cheap and stateless)."""
        return import_string(self.SHOP_ADAPTER)()


ai_settings = AISettings()
