"""Repeated failed sign-ins lock out the username from that address (django-axes), storefront and admin."""
from __future__ import annotations

import pytest
from axes.models import AccessAttempt

from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGN_IN_PAGES = {
    "storefront": ("/account/login/", "dora", False),
    "admin": ("/admin/login/?next=/admin/", "root", True),
}


def sign_in(client, url: str, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("where", list(SIGN_IN_PAGES))
def test_five_failures_lock_out_even_the_right_password(client, where, settings):
    url, username, staff = SIGN_IN_PAGES[where]
    (StaffFactory if staff else UserFactory)(username=username)
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, url, username, "wrong")
        assert response.status_code == 200, attempt  # the form again, with its error
    response = sign_in(client, url, username, "wrong")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many sign-in attempts" in page
    assert f"failed {settings.AXES_FAILURE_LIMIT} times" in page and "locked for 15 minutes" in page
    response = sign_in(client, url, username, "correct-horse-battery")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another address is not locked out, and the right password works there.
    response = sign_in(client, url, username, "correct-horse-battery", address="10.0.0.2")
    assert response.status_code == 302
    assert AccessAttempt.objects.get(ip_address="10.0.0.1").failures_since_start == settings.AXES_FAILURE_LIMIT + 1


def test_a_success_resets_the_count(client, settings):
    UserFactory(username="dora")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "/account/login/", "dora", "wrong")
    assert sign_in(client, "/account/login/", "dora", "correct-horse-battery").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "/account/login/", "dora", "wrong").status_code == 200


def test_the_lock_expires_after_the_cool_off(client, settings):
    from datetime import timedelta

    from django.utils import timezone

    UserFactory(username="dora")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "/account/login/", "dora", "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(client, "/account/login/", "dora", "correct-horse-battery").status_code == 302
