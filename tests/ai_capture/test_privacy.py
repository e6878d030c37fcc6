from __future__ import annotations

import uuid

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from ai.models import Event
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _event(visitor_id, user=None, product_id=1):
    from django.utils import timezone

    return Event.objects.create(event_type="view", visitor_id=visitor_id, user=user, product_id=product_id,
                                created_at=timezone.now())


def test_privacy_page_offers_to_opt_out(client):
    response = client.get(reverse("ai:privacy"))
    assert response.status_code == 200
    assert b"Stop tracking this browser" in response.content
    assert b'value="opt_out"' in response.content


def test_opting_out_sets_the_cookie_forgets_the_anonymous_history_and_stops_recording(client):
    visitor = uuid.uuid4().hex
    user = UserFactory()
    client.cookies["aisle_vid"] = visitor
    _event(visitor)
    _event(visitor, product_id=2)
    kept = _event(visitor, user=user, product_id=3)  # belongs to an account: deleted with the account only
    other = _event(uuid.uuid4().hex)

    response = client.post(reverse("ai:privacy"), {"action": "opt_out"}, follow=True)

    assert response.status_code == 200
    assert client.cookies["aisle_optout"].value == "1"
    assert client.cookies["aisle_vid"].value == ""  # visitor cookie deleted
    assert set(Event.objects.values_list("pk", flat=True)) == {kept.pk, other.pk}
    assert b"Tracking is off for this browser" in response.content
    assert b"2 anonymous event(s)" in response.content
    # Later requests get no new visitor cookie.
    later = client.get(reverse("ai:privacy"))
    assert "aisle_vid" not in later.cookies


def test_opting_out_as_a_new_visitor_sets_no_visitor_cookie(client):
    response = client.post(reverse("ai:privacy"), {"action": "opt_out"})
    assert response.status_code == 302
    assert response.cookies["aisle_vid"]["max-age"] == 0
    assert response.cookies["aisle_optout"].value == "1"


def test_opting_back_in_clears_the_cookie(client):
    client.cookies["aisle_optout"] = "1"
    page = client.get(reverse("ai:privacy"))
    assert b"Turn tracking back on" in page.content

    response = client.post(reverse("ai:privacy"), {"action": "opt_in"})

    assert response.status_code == 302
    assert response.cookies["aisle_optout"]["max-age"] == 0


def test_the_page_says_when_the_browser_signal_turns_tracking_off(client):
    response = client.get(reverse("ai:privacy"), HTTP_SEC_GPC="1")
    assert b"Global Privacy Control" in response.content
    assert b'value="opt_out"' not in response.content


def test_an_unknown_choice_changes_nothing(client):
    response = client.post(reverse("ai:privacy"), {"action": "delete_everything"}, follow=True)
    assert b"Unknown choice" in response.content
    assert "aisle_optout" not in client.cookies


def test_privacy_form_is_csrf_protected():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(reverse("ai:privacy"), {"action": "opt_out"})
    assert response.status_code == 403


def test_footer_include_links_to_the_privacy_page():
    html = render_to_string("ai/privacy_link.html")
    assert f'href="{reverse("ai:privacy")}"' in html


def test_every_page_footer_links_to_the_privacy_page(client):
    response = client.get(reverse("ai:privacy"))  # any page extending base.html
    footer = response.content.decode().split('<footer', 1)[1]
    assert f'href="{reverse("ai:privacy")}"' in footer


def test_the_privacy_page_lists_what_is_stored_and_for_how_long(client, settings):
    settings.AI_EVENT_RETENTION_DAYS = 400
    html = client.get(reverse("ai:privacy")).content.decode()
    rows = {
        name: html.split(f'data-stored="{name}"', 1)[1].split("</tr>", 1)[0]
        for name in ("events", "visitor-cookie", "account", "opt-out-cookie")
    }
    assert "400 days, then deleted" in rows["events"]
    assert "aisle_vid" in rows["visitor-cookie"] and "365 days" in rows["visitor-cookie"]
    assert "aisle_optout" in rows["opt-out-cookie"] and "5 years" in rows["opt-out-cookie"]
    assert "session is never stored" in html


def test_without_a_retention_period_the_page_says_events_are_kept_until_deleted(client):
    html = client.get(reverse("ai:privacy")).content.decode()
    assert "Until this shop deletes them" in html.split('data-stored="events"', 1)[1].split("</tr>", 1)[0]
