"""Who may use the AI plug-in's management API (training runs, model versions)."""
from __future__ import annotations

from rest_framework.permissions import BasePermission


class IsStaffOrAiScope(BasePermission):
    """Staff sessions, or merchant API keys with the dedicated `ai` scope (duck-typed: `request.auth.scope`)."""

    message = "This needs a staff session or an API key with the 'ai' scope."

    def has_permission(self, request, view) -> bool:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            return True
        return getattr(request.auth, "scope", None) == "ai"
