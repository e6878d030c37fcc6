from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from ai.middleware import VisitorMiddleware


@pytest.fixture
def through_middleware():
    """Run `view(request)` behind VisitorMiddleware, as a page would: returns (request, response)."""

    def run(view, *, cookies=None, headers=None, user=None):
        from django.contrib.auth.models import AnonymousUser

        request = RequestFactory().get("/p/", headers=headers or {})
        request.COOKIES.update(cookies or {})
        request.user = user or AnonymousUser()

        def get_response(req):
            view(req)
            return HttpResponse("ok")

        response = VisitorMiddleware(get_response)(request)
        return request, response

    return run


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The factories set real passwords; the default PBKDF2 would make each user cost half a second.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def fake_orders(monkeypatch):
    """The shop's order lines, as the fake adapter (tests.ai_capture.fakes) reports them: append to the list."""
    from django.test import override_settings

    from ai.adapter import OrderLineInfo
    from tests.ai_capture import fakes

    lines: list[OrderLineInfo] = []
    monkeypatch.setattr(fakes, "LINES", lines)
    with override_settings(AI_SHOP_ADAPTER="tests.ai_capture.fakes.FakeOrdersAdapter"):
        yield lines
