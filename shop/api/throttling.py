"""Per-key throttling. The rate comes from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_key"]
(env API_THROTTLE_RATE, e.g. "600/min"), read at request time so that tests can override it."""
from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from shop.api.permissions import key_of


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return str(rate) if rate is not None else None

    def get_cache_key(self, request, view) -> str:
        api_key = key_of(request)
        if api_key is not None:
            ident = f"key:{api_key.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class CheckoutThrottle(SimpleRateThrottle):
    """Placing orders from the storefront: the same cache-backed mechanism as the API's throttles.

    Orders hold stock until paid or released, so strangers must not place them in bulk: one
    allowance per visitor (account, else visitor cookie) and one per client IP, which a visitor that
    drops its cookies cannot escape. Rates come from DEFAULT_THROTTLE_RATES["checkout_visitor" /
    "checkout_ip"] (env CHECKOUT_RATE_VISITOR / CHECKOUT_RATE_IP), read at request time.
    """

    default_rate = "10/hour"

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "", self.default_rate)
        return str(rate) if rate is not None else None


class CheckoutVisitorThrottle(CheckoutThrottle):
    scope = "checkout_visitor"
    default_rate = "10/hour"

    def get_cache_key(self, request, view) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            ident = f"visitor:{getattr(request, 'visitor_id', '') or request.session.session_key or 'none'}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class CheckoutIPThrottle(CheckoutThrottle):
    scope = "checkout_ip"
    default_rate = "30/hour"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": f"ip:{self.get_ident(request)}"}


def checkout_wait(request) -> float | None:
    """None when this request may place an order; else the seconds to wait (each throttle is charged)."""
    waits = []
    for throttle in (CheckoutVisitorThrottle(), CheckoutIPThrottle()):
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]  # a plain Django view, no APIView
            waits.append(throttle.wait() or 1.0)
    return max(waits) if waits else None
