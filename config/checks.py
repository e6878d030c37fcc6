"""Start-up guards for the server processes (WSGI, Celery worker and beat).

Management commands and tests may run on the development SECRET_KEY (so that `make demo` and `make test`
need no configuration), but a server that signs sessions, CSRF tokens and password-reset links must not:
with DEBUG off, it refuses to start until SECRET_KEY is set.
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_production_secret_key() -> None:
    if not settings.DEBUG and settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: refusing to start with DEBUG off. Set SECRET_KEY to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or DEBUG=1 for development."
        )
