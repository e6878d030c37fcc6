"""The plug-in's settings: one typed object, `ai_settings`, with a property per setting.

Every setting is `AI_<NAME>` in the host project's Django settings; `ai_settings.NAME` reads it (at each
access, so that tests may override it), falling back to the default written in the property. The return
annotation of each property is its type: `ai.checks` rejects a value of another type at start-up, and
checks the values that have a grammar (rates, cron, the adapter's dotted path). A new setting is a new
property here, with its docstring saying what it means.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

_MISSING = object()
TRAIN_DEVICE_CHOICES = ("auto", "cpu", "cuda")  # AI_TRAIN_DEVICE's values (ai.device.resolve_device picks)


class AISettings:
    prefix = "AI_"

    def _get(self, name: str, default: Any) -> Any:
        value = getattr(settings, self.prefix + name, _MISSING)
        return default if value is _MISSING else value

    @classmethod
    def names(cls) -> list[str]:
        """Every declared setting (without the AI_ prefix)."""
        return sorted(name for name, value in vars(cls).items() if isinstance(value, property) and name.isupper())

    def adapter(self):
        """The host shop's adapter instance (a new one each call: adapters are cheap and stateless)."""
        return import_string(self.SHOP_ADAPTER)()

    # The host shop ---------------------------------------------------------------------------------
    @property
    def SHOP_ADAPTER(self) -> str:
        """Dotted path of the `ai.adapter.BaseShopAdapter` subclass through which ai reaches the shop."""
        return self._get("SHOP_ADAPTER", "ai.adapter.BaseShopAdapter")

    @property
    def CURRENCY_SYMBOL(self) -> str:
        """Shown before prices in the recommendation block."""
        return self._get("CURRENCY_SYMBOL", "£")

    # Training and tasks ------------------------------------------------------------------------------
    @property
    def TRAIN_DEVICE(self) -> str:
        """auto | cpu | cuda. auto takes CUDA (with bf16 autocast) when present, else the CPU."""
        return self._get("TRAIN_DEVICE", "auto")

    @property
    def TRAIN_CPU_THREADS(self) -> int:
        """Threads for CPU training; 0 means one per core."""
        return self._get("TRAIN_CPU_THREADS", 0)

    @property
    def TASKS_IN_PROCESS(self) -> bool:
        """Run ai's tasks (training runs) in the calling process instead of sending them to Celery.

        Default: on when the host has no `CELERY_BROKER_URL` (no broker, nothing would ever consume the
        message), off otherwise."""
        value = self._get("TASKS_IN_PROCESS", None)
        if value is None:
            return not getattr(settings, "CELERY_BROKER_URL", "")
        return value

    @property
    def TRAIN_QUEUE(self) -> str:
        """The Celery queue training runs are sent to (run a worker per GPU on it)."""
        return self._get("TRAIN_QUEUE", "gpu")

    @property
    def QUEUE_TIMEOUT_S(self) -> float:
        """A queued run that no worker has picked up (or looked at) for this long is failed by the sweep."""
        return self._get("QUEUE_TIMEOUT_S", 900.0)

    @property
    def CONCURRENT_RUNS(self) -> str:
        """wait | refuse: what a second run of a kind does while another of the same kind is queued or running.

        wait: it stays queued and starts when the other has finished. refuse: it is not created (409 over
        the API, a form error in the admin, an error in the CLI)."""
        return self._get("CONCURRENT_RUNS", "wait")

    @property
    def RETRY_WAITING_S(self) -> float:
        """How often a waiting run (CONCURRENT_RUNS = wait) is looked at again."""
        return self._get("RETRY_WAITING_S", 30.0)

    @property
    def RETRAIN_CRON(self) -> str:
        """Cron (minute hour day month weekday) of the periodic retraining, in CELERY_TIMEZONE."""
        return self._get("RETRAIN_CRON", "30 2 * * *")

    @property
    def RETRAIN_KINDS(self) -> list:
        """The kinds the periodic retraining (and `ai_train all`) trains."""
        return self._get("RETRAIN_KINDS", ["popularity", "cooccurrence", "sasrec", "content", "demand"])

    @property
    def SWEEP_INTERVAL_S(self) -> float:
        """How often beat runs the sweep of dead and never-picked-up runs."""
        return self._get("SWEEP_INTERVAL_S", 60.0)

    @property
    def HEARTBEAT_TIMEOUT_S(self) -> float:
        """A run that has not beaten its heartbeat for this many seconds is failed by the sweep."""
        return self._get("HEARTBEAT_TIMEOUT_S", 120.0)

    @property
    def AUTO_PROMOTE_MARGIN(self) -> float | None:
        """A candidate is promoted automatically when its primary metric beats the live one by this relative
        margin (0.02: 2% better). None turns automatic promotion off."""
        return self._get("AUTO_PROMOTE_MARGIN", 0.0)

    # Demand forecasts -----------------------------------------------------------------------------------
    @property
    def FORECAST_N_JOBS(self) -> int:
        """Processes for the per-product fits of the demand kind; 0 means one per core."""
        return self._get("FORECAST_N_JOBS", 0)

    @property
    def FORECAST_DASK_SCHEDULER(self) -> str:
        """A Dask scheduler (tcp://host:8786) to spread the demand kind's fits over a cluster through
        statsforecast's fugue backend; empty: fit on the worker itself."""
        return self._get("FORECAST_DASK_SCHEDULER", "")

    # The registry ------------------------------------------------------------------------------------
    @property
    def ARTIFACT_STORAGE(self) -> str:
        """Where artifacts are stored, through Django's storage API (a STORAGES alias)."""
        return self._get("ARTIFACT_STORAGE", "default")

    @property
    def ARTIFACT_PREFIX(self) -> str:
        """The folder of the artifacts inside that storage."""
        return self._get("ARTIFACT_PREFIX", "ai-models")

    @property
    def REGISTRY_POLL_S(self) -> float:
        """How often (seconds) a serving process checks the registry for a promotion or rollback."""
        return self._get("REGISTRY_POLL_S", 2.0)

    # Behaviour capture ---------------------------------------------------------------------------------
    @property
    def TRACKING_ENABLED(self) -> bool:
        """Record shoppers' behaviour at all."""
        return self._get("TRACKING_ENABLED", True)

    @property
    def TRACKING_ASYNC_COMMIT(self) -> bool:
        """On PostgreSQL, commit event writes without waiting for the WAL flush (synchronous_commit=off for
        those transactions only): a crash may lose the last fraction of a second of events, never corrupt."""
        return self._get("TRACKING_ASYNC_COMMIT", True)

    @property
    def VISITOR_COOKIE(self) -> str:
        """Name of the first-party cookie holding the random visitor id."""
        return self._get("VISITOR_COOKIE", "aisle_vid")

    @property
    def VISITOR_COOKIE_AGE_DAYS(self) -> int:
        """How long the visitor cookie lives."""
        return self._get("VISITOR_COOKIE_AGE_DAYS", 365)

    @property
    def OPT_OUT_COOKIE(self) -> str:
        """Name of the cookie that remembers a browser's opt-out."""
        return self._get("OPT_OUT_COOKIE", "aisle_optout")

    @property
    def EVENT_RETENTION_DAYS(self) -> int | None:
        """Events older than this many days are deleted by the periodic purge (None: kept until `ai_purge_events`)."""
        return self._get("EVENT_RETENTION_DAYS", None)

    @property
    def BEACON_MAX_BYTES(self) -> int:
        """The largest beacon body accepted (413 above)."""
        return self._get("BEACON_MAX_BYTES", 16 * 1024)

    @property
    def BEACON_MAX_EVENTS(self) -> int:
        """The most events in one beacon."""
        return self._get("BEACON_MAX_EVENTS", 50)

    @property
    def BEACON_RATE_LIMIT(self) -> str:
        """Beacons per visitor (DRF rate string: COUNT/s|m|h|d)."""
        return self._get("BEACON_RATE_LIMIT", "120/m")

    @property
    def BEACON_RATE_LIMIT_IP(self) -> str:
        """Beacons per client IP, whatever the visitor cookie says (DRF rate string)."""
        return self._get("BEACON_RATE_LIMIT_IP", "600/m")

    @property
    def CLIENT_IP_HEADER(self) -> str:
        """The request.META key holding the client's address as set by a trusted proxy (e.g.
        HTTP_X_FORWARDED_FOR: its first address is taken). Empty: REMOTE_ADDR. Set it only behind a proxy
        that overwrites the header, or clients choose their own address."""
        return self._get("CLIENT_IP_HEADER", "")

    @property
    def BATCH_MAX_EVENTS(self) -> int:
        """The most events in one `POST /api/v1/events/` batch."""
        return self._get("BATCH_MAX_EVENTS", 1000)

    @property
    def API_EVENTS_IN_POPULARITY(self) -> bool:
        """Whether events sent over the API by API clients (not staff) count in shop-wide popularity.
        Off: they are stored, attributed to the key that sent them, and used for that shopper only."""
        return self._get("API_EVENTS_IN_POPULARITY", False)

    # The API ---------------------------------------------------------------------------------------------
    @property
    def API_THROTTLE_RATE(self) -> str:
        """Requests per caller to ai's API views (DRF rate string)."""
        return self._get("API_THROTTLE_RATE", "1200/min")

    # Recommendations -----------------------------------------------------------------------------------
    @property
    def ATTRIBUTION_WINDOW_HOURS(self) -> int:
        """Purchases within this many hours of a recommendation click are attributed to it."""
        return self._get("ATTRIBUTION_WINDOW_HOURS", 24)

    @property
    def REPEAT_PURCHASE_CATEGORIES(self) -> list:
        """Category ids (or names) whose products may be recommended again to someone who bought them."""
        return self._get("REPEAT_PURCHASE_CATEGORIES", [])

    @property
    def RECS_DIVERSITY(self) -> dict:
        """Placement code -> MMR diversity weight (0..1) of its personal lists, overriding the placement's own."""
        return self._get("RECS_DIVERSITY", {})

    @property
    def MAX_PER_CATEGORY(self) -> int:
        """At most this many recommended products per category in one list."""
        return self._get("MAX_PER_CATEGORY", 3)

    @property
    def DEFAULT_LIMIT(self) -> int:
        """Products per recommendation list when the caller gives no limit."""
        return self._get("DEFAULT_LIMIT", 8)

    @property
    def AB_CANDIDATE_SHARE(self) -> float:
        """Share (0..1) of visitors served the A/B candidate version, when an experiment is on."""
        return self._get("AB_CANDIDATE_SHARE", 0.0)

    # Support chat ------------------------------------------------------------------------------------
    @property
    def CHAT_RATE_VISITOR(self) -> str:
        """Chat messages a visitor may send (DRF rate string)."""
        return self._get("CHAT_RATE_VISITOR", "20/min")

    @property
    def CHAT_RATE_IP(self) -> str:
        """Chat messages per client IP (DRF rate string)."""
        return self._get("CHAT_RATE_IP", "60/min")

    @property
    def CHAT_RATE_POLL(self) -> str:
        """How often the open chat widget may poll, per visitor (DRF rate string)."""
        return self._get("CHAT_RATE_POLL", "300/min")

    @property
    def CHAT_STAFF_ONLINE_S(self) -> int:
        """How recently staff must have had the inbox open to count as online."""
        return self._get("CHAT_STAFF_ONLINE_S", 120)

    @property
    def CHAT_POLL_MS(self) -> int:
        """How often the open chat widget polls (milliseconds)."""
        return self._get("CHAT_POLL_MS", 1000)

    @property
    def CHAT_INTENTS_LABEL_SET(self) -> str:
        """The label set holding the chat's intents."""
        return self._get("CHAT_INTENTS_LABEL_SET", "chat-intents")

    @property
    def CHAT_SEED_INTENTS_FILE(self) -> str:
        """Where `ai_seed_intents` reads the seed intents (CSV text,label,split) from."""
        return self._get("CHAT_SEED_INTENTS_FILE", "../shared/data/intents/bitext-support.csv")


ai_settings = AISettings()
