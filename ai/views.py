"""The browser beacon and the privacy page (opt out of / back into behaviour tracking)."""
from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from . import beacon
from .api.base import ai_exception_handler
from .conf import ai_settings
from .middleware import tracking_allowed
from .models import Event
from .tracking import is_tracking, visitor_id_for

logger = logging.getLogger(__name__)

OPT_OUT_COOKIE_AGE = 5 * 365 * 86400


class SameOrigin(BasePermission):
    """Beacons come from this site's own pages (checked from Sec-Fetch-Site, Origin or Referer): the same-origin
    check stands in for the CSRF token, which `navigator.sendBeacon` cannot send."""

    message = "Beacons are accepted from this site's own pages only."
    code = "cross_origin"

    def has_permission(self, request, view) -> bool:
        return beacon.is_same_origin(request._request)


class SessionUser(BaseAuthentication):
    """The shopper Django's session middleware found (CSRF is replaced by the same-origin check)."""

    def authenticate(self, request):
        user = getattr(request._request, "user", None)
        return (user, None) if user is not None and user.is_authenticated else None


class BeaconRejected(APIException):
    status_code = 400
    default_code = "invalid"

    def __init__(self, error: beacon.BeaconError) -> None:
        super().__init__(error.message, code={413: "too_large"}.get(error.status, "invalid"))
        self.status_code = error.status
        self.fields = error.errors


class BeaconView(APIView):
    """`POST /ai/beacon/`: what only the browser sees (recommendation lists scrolled into view, clicks on them).

    204 on success, and for opted-out visitors (accepted, nothing stored). No authentication of its own: the
    shopper is whoever Django's session middleware says. Throttled per visitor and per client IP."""

    schema = None  # a browser endpoint, not part of the API a client integrates with (documented in docs/tracking.md)
    authentication_classes = [SessionUser]
    permission_classes = [SameOrigin]
    throttle_classes = [beacon.BeaconVisitorThrottle, beacon.BeaconIPThrottle]
    parser_classes = [beacon.BeaconJSONParser, beacon.BeaconTextParser]

    def permission_denied(self, request, message=None, code=None):
        raise PermissionDenied(message, code)  # a cross-origin beacon is refused, signed in or not

    def get_exception_handler(self):
        def handle(exc, context):
            response = ai_exception_handler(exc, context)
            if isinstance(exc, BeaconRejected) and exc.fields:
                response.data["error"]["fields"] = exc.fields
            return response

        return handle

    def post(self, request):
        payload = request.data  # 415 for another content type, 413 too large, 400 not JSON
        django_request = request._request
        if not is_tracking(django_request):
            return HttpResponse(status=204)  # opted out: accepted, and nothing is stored
        try:
            rows = beacon.parse_beacon(payload)
        except beacon.BeaconError as exc:
            raise BeaconRejected(exc) from None
        user_id = request.user.pk if request.user.is_authenticated else None
        beacon.store_beacon_events(rows, visitor_id=visitor_id_for(django_request), user_id=user_id)
        return HttpResponse(status=204)


beacon_view = BeaconView.as_view()


@require_http_methods(["GET", "POST"])
def privacy_view(request: HttpRequest) -> HttpResponse:
    """What is recorded, and buttons to opt out of tracking (or back in). POST sets or clears the cookie."""
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("opt_out", "opt_in"):
            messages.error(request, "Unknown choice; nothing was changed.")
            return redirect("ai:privacy")
        response = redirect("ai:privacy")
        if action == "opt_out":
            forgotten = _forget_anonymous_history(request)
            response.set_cookie(
                ai_settings.OPT_OUT_COOKIE, "1", max_age=OPT_OUT_COOKIE_AGE, samesite="Lax", secure=request.is_secure()
            )
            response.delete_cookie(ai_settings.VISITOR_COOKIE, samesite="Lax")
            messages.success(
                request,
                "Tracking is off for this browser."
                + (f" {forgotten} anonymous event(s) recorded from it were deleted." if forgotten else ""),
            )
        else:
            response.delete_cookie(ai_settings.OPT_OUT_COOKIE, samesite="Lax")
            messages.success(request, "Tracking is on again for this browser. Thank you.")
        return response
    opted_out = request.COOKIES.get(ai_settings.OPT_OUT_COOKIE) == "1"
    context = {
        "opted_out": opted_out,
        "browser_signal": not opted_out and not tracking_allowed(request) and ai_settings.TRACKING_ENABLED,
        "tracking_enabled": ai_settings.TRACKING_ENABLED,
        "retention_days": ai_settings.EVENT_RETENTION_DAYS,
        "visitor_cookie": ai_settings.VISITOR_COOKIE,
        "visitor_cookie_days": ai_settings.VISITOR_COOKIE_AGE_DAYS,
        "opt_out_cookie": ai_settings.OPT_OUT_COOKIE,
        "opt_out_cookie_years": OPT_OUT_COOKIE_AGE // (365 * 86400),
    }
    return render(request, "ai/privacy.html", context)


def _forget_anonymous_history(request: HttpRequest) -> int:
    """Delete the events recorded for this browser that belong to no account (those are the account's)."""
    visitor_id = visitor_id_for(request)
    if not visitor_id:
        return 0
    deleted, _ = Event.objects.filter(visitor_id=visitor_id, user__isnull=True).delete()
    logger.info("ai.privacy: visitor opted out; deleted %s anonymous events", deleted)
    return deleted
