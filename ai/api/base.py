"""What every ai API view declares for itself, so that it behaves the same in any host shop whatever the
host's REST_FRAMEWORK defaults (open permissions, another exception handler, no pagination):

- authentication: the host's server-to-server credentials through the adapter (`AdapterAuthentication`,
  which calls `adapter.api_client(request)`), then the Django session (with CSRF);
- throttling: `AiRateThrottle`, per API client, user or IP, at AI_API_THROTTLE_RATE;
- the error body: `{"error": {"code", "message", "fields"}}` from `ai_exception_handler`;
- pagination: `?page=N&page_size=M` with `{"count", "next", "previous", "results"}`.
Permissions are declared per view (ai/api/permissions.py).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle
from rest_framework.views import set_rollback

from ai.adapter import ApiClient
from ai.conf import ai_settings

logger = logging.getLogger("ai.api")

GENERIC_MESSAGES = {
    400: ("bad_request", "The request is malformed."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    409: ("conflict", "The request conflicts with the current state of the resource."),
    413: ("request_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send the request body as application/json."),
    429: ("throttled", "Too many requests."),
    500: ("server_error", "Internal server error."),
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _plain(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_plain(item) for item in detail]
    return str(detail)


def _first(detail: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str] | None:
    if isinstance(detail, dict):
        items = [((*path, str(key)), value) for key, value in detail.items()]
    elif isinstance(detail, list):
        items = [(path, value) for value in detail]
    else:
        return (path, str(detail)) if detail else None
    for sub_path, value in items:
        found = _first(value, sub_path)
        if found:
            return found
    return None


def _validation_body(detail: Any) -> dict[str, Any]:
    if not isinstance(detail, dict):
        found = _first(detail)
        return error_body("invalid", found[1] if found else "Invalid input.")
    fields = _plain(detail)
    non_field = fields.pop("non_field_errors", None)
    if non_field:
        found = _first(non_field)
        return error_body("invalid", found[1] if found else "Invalid input.", fields)
    found = _first(fields)
    if found is None:
        return error_body("invalid", "Invalid input.", fields)
    path, text = found
    more = f" (and {len(fields) - 1} more field{'s' if len(fields) > 2 else ''})" if len(fields) > 1 else ""
    return error_body("invalid", f"{'.'.join(path)}: {text}{more}", fields)


def ai_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """ai's own error body for every exception in an ai API view (it never depends on the host's handler)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RecursionError):
        exc = exceptions.ParseError("Malformed JSON: nested too deeply.")
    set_rollback()
    if not isinstance(exc, exceptions.APIException):
        view = context.get("view")
        logger.exception("Unhandled error in ai API view %s", type(view).__name__ if view else "?", exc_info=exc)
        return Response(error_body(*GENERIC_MESSAGES[500]), status=500)
    headers: dict[str, str] = {}
    auth_header = getattr(exc, "auth_header", None)  # NotAuthenticated, AuthenticationFailed
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)  # Throttled
    if wait:
        headers["Retry-After"] = str(max(1, round(wait)))
    if isinstance(exc, exceptions.ValidationError):
        body = _validation_body(exc.detail)
    elif isinstance(exc, exceptions.Throttled):
        body = error_body("throttled", f"Too many requests: retry in {headers.get('Retry-After', '1')} seconds.")
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
        found = _first(exc.detail)
        body = error_body(code, found[1] if found else GENERIC_MESSAGES.get(exc.status_code, ("", "Error"))[1])
    return Response(body, status=exc.status_code, headers=headers)


class AdapterAuthentication(BaseAuthentication):
    """Server-to-server callers (a headless storefront, a merchant's backend), authenticated by the host shop
    through `adapter.api_client(request)`: `request.auth` becomes the `ApiClient` it returns."""

    def authenticate(self, request) -> tuple[Any, ApiClient] | None:
        client = ai_settings.adapter().api_client(request)
        if client is None:
            return None
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser(), client

    def authenticate_header(self, request) -> str:
        return ai_settings.adapter().api_authenticate_header()


def client_of(request) -> ApiClient | None:
    return request.auth if isinstance(request.auth, ApiClient) else None


def is_staff_session(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff and client_of(request) is None)


class AiRateThrottle(SimpleRateThrottle):
    """AI_API_THROTTLE_RATE per API client, else per signed-in user, else per client IP."""

    scope = "ai_api"

    def get_rate(self) -> str:
        return ai_settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        client = client_of(request)
        if client is not None:
            ident = f"client:{client.id}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AiPagination(PageNumberPagination):
    """`?page=N&page_size=M` (M from 1 to 500, default 50)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError({self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]})
        return int(raw)


class AiApiMixin:
    """Mixed into every ai API view (before APIView): authentication, throttling, errors and pagination are
    ai's own. Each view still names its `permission_classes`."""

    authentication_classes: Sequence[type[BaseAuthentication]] = [AdapterAuthentication, SessionAuthentication]
    throttle_classes: Sequence[type[BaseThrottle]] = [AiRateThrottle]
    pagination_class: type[BasePagination] | None = AiPagination

    def get_exception_handler(self):
        return ai_exception_handler


class AiErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A machine-readable code: invalid, not_authenticated, permission_denied, …")
    message = serializers.CharField(help_text="What is wrong, for a person.")
    # The error body's key; as a declared field it only shadows Serializer.fields for mypy.
    fields = serializers.DictField(required=False, help_text="Per field (or per row of a batch), its errors.")  # type: ignore[assignment]


class AiErrorSerializer(serializers.Serializer):
    """ai's error body, whatever the host's REST_FRAMEWORK["EXCEPTION_HANDLER"]."""

    error = AiErrorDetailSerializer()


class AdapterAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the host's server-to-server authentication (whatever the adapter's api_client accepts; in
    Aisle a bearer API key) in the OpenAPI schema."""

    target_class = AdapterAuthentication
    name = "hostApiClient"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The host shop's server-to-server credentials, checked by its ai adapter (api_client).",
        }
