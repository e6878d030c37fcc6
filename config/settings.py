"""Aisle settings. Everything a deployment changes comes from environment variables.

Defaults are embedded so that `make demo` and `make test` need no services: a SQLite file,
an in-process cache and Celery tasks that run eagerly in the calling process.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from config.cache import caches_for

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Without SECRET_KEY, management commands and tests run on a development key; the servers (config/wsgi.py,
# Celery workers and beat: config/celery.py) refuse to start on it unless DEBUG is on (see config/checks.py).
DEVELOPMENT_SECRET_KEY = "insecure-development-key-change-me"
SECRET_KEY = os.environ.get("SECRET_KEY", "") or DEVELOPMENT_SECRET_KEY
if SECRET_KEY == DEVELOPMENT_SECRET_KEY and not DEBUG and env_bool("REQUIRE_SECRET_KEY", False):
    raise RuntimeError("SECRET_KEY must be set in production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "shop",
    "ai",
]

MIDDLEWARE = [
    "config.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "shop.api.middleware.ApiErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ai.middleware.VisitorMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop.context_processors.shop",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # WAL with synchronous=NORMAL: a commit no longer waits for several fsyncs (a page that records an
    # event took ~22 ms longer in journal mode, ~0.6 ms in WAL; bench/events_bench.py), and readers never
    # block the writer. Safe against corruption; a power cut may lose the last commits.
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Redis when REDIS_URL is set, failing open to the process's memory while it is down (config/cache.py).
CACHES = caches_for(REDIS_URL)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed sign-ins (storefront and admin) are counted per username and client address by django-axes; past
# AXES_FAILURE_LIMIT the pair is locked out for AXES_COOLOFF_MINUTES (429, registration/locked_out.html).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password"]
# The client address: REMOTE_ADDR, unless a proxy that overwrites it sets AXES_CLIENT_IP_HEADER
# (e.g. HTTP_X_REAL_IP); a header a client could set itself would let it pick a fresh address per attempt.
AXES_IPWARE_META_PRECEDENCE_ORDER = tuple(env_list("AXES_CLIENT_IP_HEADER")) + ("REMOTE_ADDR",)
LOGIN_URL = "shop:login"
LOGIN_REDIRECT_URL = "shop:account"
LOGOUT_REDIRECT_URL = "shop:home"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "shop@aisle.example")

# Request size limits (the API answers 413 past these).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2 * 1024 * 1024)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"ai.tasks.train_model": {"queue": "gpu"}, "ai.tasks.score_label_set": {"queue": "gpu"}}
CELERY_TIMEZONE = TIME_ZONE
# Workers log through LOGGING below (JSON lines with the request id of the request that enqueued the task).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- REST framework ---------------------------------------------------------
# The merchant API's conventions (shop/api/): every DRF view, the ai app's too, inherits them.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "shop.api.schema.ApiAutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "shop.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "shop.api.permissions.IsApiKeyOrStaff",
        "shop.api.permissions.MethodScope",
    ],
    "DEFAULT_PAGINATION_CLASS": "shop.api.pagination.ApiPagination",
    "PAGE_SIZE": int(os.environ.get("API_PAGE_SIZE", "50")),
    "DEFAULT_PARSER_CLASSES": ["shop.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "shop.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["shop.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": os.environ.get("API_THROTTLE_RATE", "1200/min"),
        # Storefront checkout (shop.api.throttling.CheckoutThrottle): orders placed per visitor and per IP.
        "checkout_visitor": os.environ.get("CHECKOUT_RATE_VISITOR", "10/hour"),
        "checkout_ip": os.environ.get("CHECKOUT_RATE_IP", "30/hour"),
    },
}
# Pending (unpaid) orders older than this are cancelled and their stock released (shop.tasks).
SHOP_UNPAID_ORDER_TTL_HOURS = float(os.environ.get("SHOP_UNPAID_ORDER_TTL_HOURS", "48"))
# When the daily low-stock e-mail goes out (cron: minute hour day month weekday), after ai's retraining at 02:30.
SHOP_LOW_STOCK_DIGEST_CRON = os.environ.get("SHOP_LOW_STOCK_DIGEST_CRON", "0 6 * * *")
SPECTACULAR_SETTINGS = {
    "TITLE": "Aisle merchant API",
    "DESCRIPTION": "REST API for merchants: catalogue, stock, orders, and the AI plug-in.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc served from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "shop.models.orders.OrderStatus"},
}

# --- The AI plug-in ---------------------------------------------------------
AI_SHOP_ADAPTER = "shop.ai_adapter.ShopAdapter"
AI_TRAIN_DEVICE = os.environ.get("AI_TRAIN_DEVICE", "auto")
AI_RETRAIN_CRON = os.environ.get("AI_RETRAIN_CRON", "30 2 * * *")
AI_HEARTBEAT_TIMEOUT_S = float(os.environ.get("AI_HEARTBEAT_TIMEOUT_S", "120"))
AI_FORECAST_DASK_SCHEDULER = os.environ.get("AI_FORECAST_DASK_SCHEDULER", "")
AI_FORECAST_N_JOBS = int(os.environ.get("AI_FORECAST_N_JOBS", "0"))

# One JSON object per line on stderr (LOG_FORMAT=json, the default without DEBUG), each with the request id
# (config/request_id.py); LOG_FORMAT=text for a console to read.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.request_id.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Deployment hardening (`manage.py check --deploy` is clean with DEBUG=0, SECRET_KEY, HTTPS=1) ---------
# HTTPS=1: the site is served over HTTPS (by a TLS-terminating proxy or directly). Cookies are then sent over
# HTTPS only, plain HTTP is redirected, and browsers are told to keep to HTTPS (HSTS). SECURE_COOKIES=1 is
# the older name of the same switch.
HTTPS = not DEBUG and (env_bool("HTTPS", False) or env_bool("SECURE_COOKIES", False))
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    # Probes (load balancer, orchestrator) call the health endpoints over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 86400)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Behind a TLS-terminating proxy: the header it sets, e.g. SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https.
# Set it only when the proxy always overwrites that header (otherwise a client could claim HTTPS).
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER")
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise RuntimeError("SECURE_PROXY_SSL_HEADER must be 'HEADER,value', e.g. HTTP_X_FORWARDED_PROTO,https")
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header[0], _proxy_ssl_header[1])
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): only this site's own scripts and styles, no inline code, no framing.
# The API docs pages widen it for themselves (config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Product pictures may live on another host (CSP_IMG_SRC=https://images.example.com).
        "img-src": ["'self'", "data:", *env_list("CSP_IMG_SRC")],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
