"""The browser beacon and the privacy page (opt out of / back into behaviour tracking)."""
from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import beacon
from .conf import ai_settings
from .middleware import tracking_allowed
from .models import Event
from .tracking import is_tracking, visitor_id_for

logger = logging.getLogger(__name__)

BEACON_CONTENT_TYPES = ("application/json", "text/plain")
OPT_OUT_COOKIE_AGE = 5 * 365 * 86400


def _error(status: int, code: str, message: str, fields: dict | None = None) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": fields or {}}}, status=status)


# CSRF-exempt because sendBeacon cannot send the token; the same-origin check below takes its place.
@csrf_exempt
@require_POST
def beacon_view(request: HttpRequest) -> HttpResponse:
    """Store what only the browser sees (recommendations scrolled into view, clicks on them). 204 on success."""
    if not beacon.is_same_origin(request):
        return _error(403, "cross_origin", "Beacons are accepted from this site's own pages only.")
    if request.content_type not in BEACON_CONTENT_TYPES:
        return _error(415, "unsupported_media_type", "Send the beacon as application/json or text/plain JSON.")
    try:
        body = beacon.read_body(request)
        if not is_tracking(request):
            return HttpResponse(status=204)  # opted out: accepted, and nothing is stored
        visitor_id = visitor_id_for(request)
        ident = visitor_id or f"ip:{request.META.get('REMOTE_ADDR', '')}"
        if beacon.over_rate_limit(ident):
            return _error(429, "rate_limited", "Too many beacons; try again later.")
        rows = beacon.parse_beacon(body)
    except beacon.BeaconError as exc:
        code = {413: "too_large"}.get(exc.status, "invalid")
        return _error(exc.status, code, exc.message, exc.errors)
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    beacon.store_beacon_events(rows, visitor_id=visitor_id, user_id=user_id)
    return HttpResponse(status=204)


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
