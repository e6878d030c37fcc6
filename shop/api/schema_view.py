"""The OpenAPI schema, generated once per process and served from memory.

Generating it walks every view and serializer (about 3 s on a small machine), which left the API docs
page showing "LOADING" on every visit. The schema only changes when the code does, that is with a
deploy, so each process builds it once: in the background as the WSGI application starts
(`warm_in_background`, called from config/wsgi.py) or, failing that, on the first request.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.test import RequestFactory
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

log = logging.getLogger(__name__)

_schemas: dict[tuple[str | None, str], dict[str, Any]] = {}
_lock = threading.Lock()


class CachedSpectacularAPIView(SpectacularAPIView):
    """SpectacularAPIView that builds each (version, language) schema once per process."""

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, translation.get_language() or settings.LANGUAGE_CODE)
        with _lock:  # one build at a time: a second caller waits for the first rather than repeating it
            schema = _schemas.get(key)
            if schema is None:
                generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
                schema = _schemas[key] = generator.get_schema(request=request, public=self.serve_public)
        return Response(
            data=schema,
            headers={
                "Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"',
                "Cache-Control": "public, max-age=300",
            },
        )


def clear() -> None:
    with _lock:
        _schemas.clear()


def warm(path: str = "/api/v1/schema/") -> None:
    """Build the default schema now (through the real view, so URL conf and settings are the served ones)."""
    from django.urls import resolve

    request = RequestFactory().get(path, HTTP_ACCEPT="application/vnd.oai.openapi")
    response = resolve(path).func(request)
    response.render()


def warm_in_background() -> None:
    def run() -> None:
        try:
            warm()
        except Exception:  # a schema that fails to build must not stop the server: the view will say why
            log.exception("building the OpenAPI schema in the background failed")

    threading.Thread(target=run, name="openapi-schema-warmup", daemon=True).start()
