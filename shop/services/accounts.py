"""Signing in: the one place where a session becomes a customer's."""
from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest

from shop.services.basket import merge_anonymous_basket


def sign_in(request: HttpRequest, user, backend: str | None = None) -> None:
    """Log `user` in, move the anonymous basket into their account, and join their browsing history.

    Django's login keeps the session data (it only changes the key), so the anonymous basket id is
    still there to merge afterwards.
    """
    from ai import tracking

    # A user just signed up carries no `backend` (authenticate() sets it); with django-axes beside
    # ModelBackend, Django needs to be told which one vouches for them.
    login(request, user, backend=backend or getattr(user, "backend", None) or "django.contrib.auth.backends.ModelBackend")
    merge_anonymous_basket(request, user)
    tracking.identify(request, user)
