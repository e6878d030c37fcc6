"""One error body for every API error: `{"error": {"code": ..., "message": ..., "fields": {...}}}`.

`api_exception_handler` is the REST framework's EXCEPTION_HANDLER (so every DRF view, the ai app's
too, answers errors in this shape); `ApiErrorMiddleware` (shop/api/middleware.py) rewrites the
errors that happen outside DRF views (unknown URLs, oversized bodies, crashes) into the same body.
"""
from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from shop.exceptions import ForbiddenTransition, InsufficientStock, ShopError

logger = logging.getLogger("shop.api")

# Status code -> (code, message) for errors that carry nothing more specific.
GENERIC_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request is malformed."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    406: ("not_acceptable", "Could not satisfy the request's Accept header."),
    409: ("conflict", "The request conflicts with the current state of the resource."),
    413: ("request_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send the request body as application/json."),
    422: ("unprocessable", "The request could not be processed."),
    429: ("throttled", "Too many requests."),
    500: ("server_error", "Internal server error."),
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request."
    default_code = "idempotency_key_reused"


def set_rollback() -> None:
    # Imported here: rest_framework.views imports the parser classes, which import this module.
    from rest_framework.views import set_rollback as drf_set_rollback

    drf_set_rollback()


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def generic_error(status_code: int) -> dict[str, Any]:
    code, message = GENERIC_ERRORS.get(status_code, ("error", "The request failed."))
    return error_body(code, message)


def json_error(status_code: int, code: str | None = None, message: str | None = None) -> JsonResponse:
    default_code, default_message = GENERIC_ERRORS.get(status_code, ("error", "The request failed."))
    return JsonResponse(error_body(code or default_code, message or default_message), status=status_code)


def _flatten(detail: Any) -> Any:
    """ErrorDetail lists/dicts -> plain strings; a list of one message becomes the message list as is."""
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _first_error(detail: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str] | None:
    """The path ("rows", "3", "price") and text of the first message in a nested error detail."""
    if isinstance(detail, dict):
        items = [((*path, str(key)), value) for key, value in detail.items()]
    elif isinstance(detail, list):
        items = [(path, value) for value in detail]
    else:
        return (path, str(detail)) if detail else None
    for sub_path, value in items:
        found = _first_error(value, sub_path)
        if found:
            return found
    return None


def _first_message(detail: Any) -> str | None:
    found = _first_error(detail)
    return found[1] if found else None


def _validation_body(exc: exceptions.ValidationError) -> dict[str, Any]:
    detail = exc.detail
    if not isinstance(detail, dict):
        return error_body("invalid", _first_message(detail) or "Invalid input.")
    fields = dict(_flatten(detail))
    non_field = fields.pop("non_field_errors", None)
    if non_field:
        return error_body("invalid", _first_message(non_field) or "Invalid input.", fields)
    found = _first_error(fields)
    if found is None:
        return error_body("invalid", "Invalid input.", fields)
    path, text = found
    count = len(fields)
    more = f" (and {count - 1} more field{'s' if count > 2 else ''})" if count > 1 else ""
    return error_body("invalid", f"{'.'.join(path)}: {text}{more}", fields)


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return getattr(exc, "default_code", "error")


# Exceptions that stand for one API error each.
TRANSLATED: dict[type[BaseException], Any] = {
    Http404: exceptions.NotFound,
    DjangoPermissionDenied: exceptions.PermissionDenied,
    RequestDataTooBig: PayloadTooLarge,
    # Only input nested past the interpreter's limit gets here (a view or parser reading JSON by itself).
    RecursionError: lambda: exceptions.ParseError("Malformed JSON: nested too deeply."),
}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """EXCEPTION_HANDLER: every exception raised in a DRF view becomes the error body; nothing leaks HTML."""
    translated = next((make() for kind, make in TRANSLATED.items() if isinstance(exc, kind)), None)
    if translated is not None:
        exc = translated
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, ShopError):
        # Errors about the state of things (stock, the order pipeline) are conflicts; the rest are bad input.
        conflict = isinstance(exc, (ForbiddenTransition, InsufficientStock))
        status_code = getattr(exc, "http_status", 409 if conflict else 400)
        set_rollback()
        fields = {name: [value] if isinstance(value, str) else value for name, value in exc.fields.items()}
        return Response(error_body(exc.code, exc.message, fields), status=status_code)
    elif isinstance(exc, ProtectedError):
        exc = Conflict("This object is still in use and cannot be deleted.", code="protected")
    elif isinstance(exc, IntegrityError):
        # A concurrent request won a uniqueness race (e.g. the same SKU created twice at once).
        exc = Conflict("The request conflicts with data stored meanwhile; retry it.", code="conflict")

    if not isinstance(exc, exceptions.APIException):
        view = context.get("view")
        logger.exception("Unhandled error in API view %s", type(view).__name__ if view else "?", exc_info=exc)
        set_rollback()
        return Response(generic_error(500), status=500)

    headers: dict[str, str] = {}
    auth_header = getattr(exc, "auth_header", None)  # NotAuthenticated and AuthenticationFailed
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)  # Throttled
    if wait:
        headers["Retry-After"] = str(max(1, round(wait)))

    if isinstance(exc, exceptions.ValidationError):
        body = _validation_body(exc)
    elif isinstance(exc, exceptions.Throttled):
        wait = headers.get("Retry-After", "1")
        body = error_body("throttled", f"Too many requests: retry in {wait} seconds.")
    else:
        message = _first_message(exc.detail) or GENERIC_ERRORS.get(exc.status_code, ("", "Error"))[1]
        body = error_body(_code_of(exc), message)
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)
