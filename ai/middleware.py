"""Gives every browser a first-party visitor id and notes whether it opted out of tracking."""
from __future__ import annotations

import uuid

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from .conf import ai_settings


def tracking_allowed(request: HttpRequest) -> bool:
    """False when the visitor opted out (cookie), or sends Do-Not-Track or Global Privacy Control."""
    if not ai_settings.TRACKING_ENABLED:
        return False
    if request.COOKIES.get(ai_settings.OPT_OUT_COOKIE) == "1":
        return False
    return not (request.headers.get("DNT") == "1" or request.headers.get("Sec-GPC") == "1")


def valid_visitor_id(value: object) -> bool:
    """The one rule for a visitor id: a UUID (as the middleware issues them, 32 hex digits), at most 64 characters."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@receiver(user_logged_out, dispatch_uid="ai.rotate_visitor_on_logout")
def rotate_visitor_on_logout(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """Signing out gives the browser a new visitor id, so that the next person on it does not inherit the
    account's history (and its recommendations) through the old one."""
    if request is not None:
        request.visitor_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        request.ai_rotate_visitor = True  # type: ignore[attr-defined]


class VisitorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cookie = request.COOKIES.get(ai_settings.VISITOR_COOKIE)
        request.ai_tracking = tracking_allowed(request)  # type: ignore[attr-defined]  # ai's own attribute
        is_new = not valid_visitor_id(cookie)
        request.visitor_id = uuid.uuid4().hex if is_new else cookie  # type: ignore[attr-defined]
        response = self.get_response(request)
        # A view that already set or deleted the cookie (the opt-out page deletes it) has the last word.
        # A request with an Authorization header is an API client, not a browser: it gets no cookie.
        rotated = getattr(request, "ai_rotate_visitor", False)
        if (
            (is_new or rotated)
            and getattr(request, "ai_tracking", False)
            and "Authorization" not in request.headers
            and ai_settings.VISITOR_COOKIE not in response.cookies
        ):
            response.set_cookie(
                ai_settings.VISITOR_COOKIE,
                request.visitor_id,  # type: ignore[attr-defined]  # (a new one after a sign-out)
                max_age=ai_settings.VISITOR_COOKIE_AGE_DAYS * 86400,
                samesite="Lax",
                httponly=True,
                secure=request.is_secure(),
            )
        return response
