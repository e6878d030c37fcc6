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
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView

log = logging.getLogger(__name__)

_schemas: dict[tuple[str | None, str], dict[str, Any]] = {}
_rendered: dict[tuple[str | None, str, str], bytes] = {}
_lock = threading.Lock()


class CachedSpectacularAPIView(SpectacularAPIView):
    """SpectacularAPIView that builds each (version, language) schema once per process, and renders it
    once per format (YAML or JSON): a cached answer is bytes copied out, not a schema walked again."""

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        language = translation.get_language() or settings.LANGUAGE_CODE
        media_type = request.accepted_media_type
        headers = {
            "Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"',
            "Cache-Control": "public, max-age=300",
        }
        with _lock:  # one build at a time: a second caller waits for the first rather than repeating it
            content = _rendered.get((version, language, media_type))
            if content is None:
                schema = _schemas.get((version, language))
                if schema is None:
                    generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
                    schema = _schemas[(version, language)] = generator.get_schema(request=request, public=self.serve_public)
                content = request.accepted_renderer.render(schema, media_type, {"request": request})
                _rendered[(version, language, media_type)] = content
        return HttpResponse(content, content_type=media_type, headers=headers)


def clear() -> None:
    with _lock:
        _schemas.clear()
        _rendered.clear()


def warm(path: str = "/api/v1/schema/") -> None:
    """Build the schema now, in the formats the docs pages and clients ask for (through the real view, so
    URL conf and settings are the served ones)."""
    from django.urls import resolve

    view = resolve(path).func
    for accept in ("application/json", "application/vnd.oai.openapi"):  # Swagger UI and Redoc ask for JSON
        response = view(RequestFactory().get(path, HTTP_ACCEPT=accept))
        if response.status_code != 200:
            raise RuntimeError(f"the OpenAPI schema answered {response.status_code}")


def warm_in_background() -> None:
    def run() -> None:
        try:
            warm()
        except Exception:  # a schema that fails to build must not stop the server: the view will say why
            log.exception("building the OpenAPI schema in the background failed")

    threading.Thread(target=run, name="openapi-schema-warmup", daemon=True).start()
