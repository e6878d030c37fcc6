"""Who may do what: API keys by scope (ai > write > read); staff sessions by Django model permissions.

A staff session is subject to the same model permissions as in the admin (`StaffModelPermissions`:
view to read, add/change/delete to write, and per custom action what the view's
`action_permissions` names). A non-superuser staff member linked to merchants (`Merchant.users`)
sees only those merchants' data (`staff_merchant_ids`).
"""
from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from shop.models import ApiKey
from shop.services import staff as merchant_scope

SCOPE_RANK: dict[str, int] = {ApiKey.Scope.READ: 1, ApiKey.Scope.WRITE: 2, ApiKey.Scope.AI: 3}


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


def staff_merchant_ids(request) -> list[int] | None:
    """The merchants a staff session is limited to (None: every merchant); the admin applies the same rule."""
    return merchant_scope.staff_merchant_ids(request.user)


class StaffModelPermissions(BasePermission):
    """Staff sessions need the Django model permission for what they ask (DjangoModelPermissions-style,
    with `view` required to read). A view may name the permissions of an action, per method, in
    `action_permissions = {"action": {"GET": [...], "POST": [...]}}`. API keys are not concerned."""

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def required_permissions(self, request, view) -> list[str]:
        by_method = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if by_method is not None:
            return list(by_method.get(request.method, by_method.get("*", [])))
        model = view.queryset.model if getattr(view, "queryset", None) is not None else view.model
        names = {"app_label": model._meta.app_label, "model_name": model._meta.model_name}
        return [perm % names for perm in self.perms_map.get(request.method, ["__unknown_method__"])]

    def has_permission(self, request, view) -> bool:
        if not is_staff_session(request):
            return True
        required = self.required_permissions(request, view)
        if request.user.has_perms(required):
            return True
        missing = sorted(perm for perm in required if not request.user.has_perm(perm))
        self.message = f"Your staff account lacks the permission{'s' if len(missing) > 1 else ''} {', '.join(missing)}."
        return False
