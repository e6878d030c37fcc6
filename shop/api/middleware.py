"""Keeps the API's error body for errors that happen outside DRF views.

A JSON body nested past the interpreter's recursion limit makes `json.loads` raise RecursionError; in a
view that reads JSON by itself (not through `StrictJSONParser`), the middleware answers that with 400 and
the error body instead of a 500, for every JSON entry point (`/api/…`, and any request whose body is
JSON or the beacon's text/plain JSON).

Under `/api/` a request whose Content-Length is over DATA_UPLOAD_MAX_MEMORY_SIZE is refused with 413
before anything reads it, and any error response that is not JSON (Django's 404 for an unknown URL,
a 400 for a bad Host, the 500 page of a crash) is replaced by the same error body with the same
status, so that API clients never have to parse HTML.
"""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from shop.api.exceptions import json_error

API_PREFIX = "/api/"
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")
JSON_BODY_TYPES = ("application/json", "text/plain")
TOO_DEEP_MESSAGE = "Malformed JSON: nested too deeply."


def max_body_bytes() -> int:
    return int(getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None) or 2 * 1024 * 1024)


class ApiErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, message="The Content-Length header is not a number.")
        limit = max_body_bytes()
        if length > limit:
            return json_error(413, message=f"The request body is too large: at most {limit} bytes.")
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
            replacement = json_error(response.status_code)
            for header in KEPT_HEADERS:
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RecursionError) and is_json_entry_point(request):
            return json_error(400, code="parse_error", message=TOO_DEEP_MESSAGE)
        return None


def is_json_entry_point(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX) or (
        request.method in ("POST", "PUT", "PATCH") and request.content_type in JSON_BODY_TYPES
    )
