"""Who may use ai's API. Two kinds of callers:

- a staff session, subject to Django model permissions (ai.view_trainingrun, ai.add_trainingrun, …), like
  everywhere in the admin;
- a server-to-server API client authenticated by the host shop (adapter.api_client), subject to its scopes
  (ai/api/scopes.py); the powerful ones (personal recommendations, model control, shop-wide events) are
  granted only by staff.
A view lists, per HTTP method, the model permission a staff member needs and the scope a client needs.
"""
from __future__ import annotations

from rest_framework.permissions import BasePermission

from . import scopes
from .base import client_of, is_staff_session


class StaffPermissionOrScope(BasePermission):
    """`view.access = {"GET": ("ai.view_trainingrun", scopes.MODELS_READ), "POST": (...)}`."""

    def has_permission(self, request, view) -> bool:
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        rule = getattr(view, "access", {}).get(method)
        if rule is None:
            return False
        perm, scope = rule
        client = client_of(request)
        if client is not None:
            if scope in client.scopes:
                return True
            only_staff = scope in (scopes.MODELS_CONTROL, scopes.RECOMMENDATIONS_PERSONAL, scopes.EVENTS_SHOP_WIDE)
            self.message = f"This API client lacks the {scope!r} scope" + (
                ", which only staff grant (e.g. on the API key in the admin)." if only_staff else "."
            )
            return False
        if is_staff_session(request):
            if request.user.has_perm(perm):
                return True
            self.message = f"Your account lacks the permission {perm}."
            return False
        self.message = "This needs an API client's credentials or a staff session."
        return False


class CanReadRecommendations(BasePermission):
    """An API client with the `recommendations` scope, a staff session, or a signed-in shopper (for their own
    lists; who may see whose personal list is decided in the view)."""

    message = "Recommendations need an API client with the 'recommendations' scope, a staff session or a signed-in shopper."

    def has_permission(self, request, view) -> bool:
        client = client_of(request)
        if client is not None:
            return scopes.RECOMMENDATIONS in client.scopes
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated)
