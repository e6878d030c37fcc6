"""Who may do what: API keys by scope (ai > write > read), staff sessions everything."""
from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from shop.models import ApiKey

SCOPE_RANK = {ApiKey.Scope.READ: 1, ApiKey.Scope.WRITE: 2, ApiKey.Scope.AI: 3}


def is_staff_session(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff and request.auth is None)


def key_of(request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


def key_has_scope(api_key: ApiKey, scope: str) -> bool:
    return SCOPE_RANK.get(api_key.scope, 0) >= SCOPE_RANK[scope]


class IsApiKeyOrStaff(BasePermission):
    """The default: a valid API key or a staff session. Customers' sessions get 403, no credentials 401."""

    message = "Use a merchant API key (Authorization: Bearer <key>) or a staff session."

    def has_permission(self, request, view) -> bool:
        return key_of(request) is not None or is_staff_session(request)


class HasScope(BasePermission):
    """`permission_classes = [HasScope("write")]`: the key's scope must include `scope`; staff pass."""

    def __init__(self, scope: str) -> None:
        if scope not in SCOPE_RANK:
            raise ValueError(f"Unknown scope {scope!r}")
        self.scope = scope
        self.message = f"This request needs an API key with the “{scope}” scope."

    def __call__(self) -> HasScope:
        # DRF instantiates permission_classes; an instance stands for its own class.
        return self

    def has_permission(self, request, view) -> bool:
        api_key = key_of(request)
        if api_key is not None:
            return key_has_scope(api_key, self.scope)
        return is_staff_session(request)


class MethodScope(BasePermission):
    """Reading needs the `read` scope, anything else the `write` scope."""

    def has_permission(self, request, view) -> bool:
        scope = ApiKey.Scope.READ if request.method in SAFE_METHODS else ApiKey.Scope.WRITE
        api_key = key_of(request)
        if api_key is None:
            return is_staff_session(request)
        if key_has_scope(api_key, scope):
            return True
        self.message = f"This API key has the “{api_key.scope}” scope; {request.method} needs “{scope}”."
        return False


class StaffWritesOnly(BasePermission):
    """Anyone allowed in may read; only staff sessions may write (the category tree is shared)."""

    message = "Only staff may change categories."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or is_staff_session(request)
