from __future__ import annotations

import json
import uuid

import pytest
from django.test import override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ai.models import Event, ModelVersion

pytestmark = pytest.mark.django_db

SAME_ORIGIN = {"HTTP_ORIGIN": "http://testserver"}


@pytest.fixture(autouse=True)
def catalogue(db):
    """The products the beacons below name (4, 5, 6): a beacon naming a product that does not exist is refused."""
    from tests.factories import ProductFactory

    return [ProductFactory(pk=pk) for pk in (4, 5, 6)]


@pytest.fixture
def url():
    return reverse("ai:beacon")


@pytest.fixture
def visitor(client):
    vid = uuid.uuid4().hex
    client.cookies["aisle_vid"] = vid
    return vid


@pytest.fixture
def version(db):
    return ModelVersion.objects.create(kind="cooccurrence", version=1, artifact_dir="ai-models/cooccurrence/1")


def impression(**overrides):
    return {"type": "rec_impression", "placement": "product_detail", "model_version": None, "list_id": "L1",
            "product_ids": [4, 5, 6]} | overrides


def click(**overrides):
    return {"type": "rec_click", "placement": "product_detail", "model_version": None, "list_id": "L1",
            "product_id": 5, "position": 1} | overrides


def send(client, url, payload, content_type="text/plain;charset=UTF-8", **headers):
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return client.post(url, body, content_type=content_type, **(headers or SAME_ORIGIN))


def test_beacon_stores_impressions_and_clicks(client, url, visitor, version):
    response = send(client, url, {"events": [impression(model_version=version.pk), click(model_version=str(version.pk))]})

    assert response.status_code == 204
    shown, clicked = Event.objects.order_by("pk")
    assert (shown.event_type, shown.placement, shown.model_version_id, shown.visitor_id) == (
        "rec_impression", "product_detail", version.pk, visitor,
    )
    assert shown.extra == {"list_id": "L1", "product_ids": [4, 5, 6]}
    assert (clicked.event_type, clicked.product_id, clicked.extra) == ("rec_click", 5, {"list_id": "L1", "position": 1})


def test_beacon_accepts_application_json_and_records_the_signed_in_user(client, url, visitor):
    from tests.factories import UserFactory

    user = UserFactory()
    client.force_login(user)
    response = send(client, url, {"events": [click()]}, content_type="application/json")
    assert response.status_code == 204
    assert Event.objects.get().user_id == user.pk


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_SEC_FETCH_SITE": "same-origin"},
        {"HTTP_REFERER": "http://testserver/products/mug/"},
        {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"},
    ],
    ids=["sec-fetch-site", "referer", "both"],
)
def test_same_origin_is_recognised_from_any_browser_header(client, url, visitor, headers):
    assert send(client, url, {"events": [click()]}, **headers).status_code == 204


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "http://testserver"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_REFERER": "https://evil.example/page"},
        {"HTTP_USER_AGENT": "curl/8"},  # no origin information at all
    ],
    ids=["other-origin", "null-origin", "cross-site", "same-site", "other-referer", "none"],
)
def test_cross_origin_beacons_are_refused(client, url, visitor, headers):
    response = send(client, url, {"events": [click()]}, **headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "cross_origin"
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    "payload, message",
    [
        ("{not json", "not valid JSON"),
        ([1, 2], '{"events": [...]}'),
        ({"events": []}, "No events"),
        ({"events": [click(type="purchase")]}, "Invalid events"),
        ({"events": [click(type="totally_new")]}, "Invalid events"),
    ],
    ids=["bad-json", "not-an-object", "empty", "server-side-type", "unknown-type"],
)
def test_malformed_beacons_get_400_with_a_message(client, url, visitor, payload, message):
    response = send(client, url, payload)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    "bad_event, field",
    [
        (click(product_id=None), "product_id"),
        (click(product_id=-1), "product_id"),
        (click(product_id=2**70), "product_id"),
        (click(position=-2), "position"),
        (click(placement=""), "placement"),
        (click(placement="<script>"), "placement"),
        (click(model_version="abc"), "model_version"),
        (click(list_id="x" * 65), "list_id"),
        (click(list_id="a\x00b"), "list_id"),
        (click(position=5000), "position"),
        (click(position=True), "position"),
        (impression(product_ids=[]), "product_ids"),
        (impression(product_ids=[1, "two"]), "product_ids"),
        (impression(product_ids=list(range(1, 102))), "product_ids"),
        ("not an object", "event"),
    ],
)
def test_one_invalid_event_rejects_the_whole_beacon_naming_it(client, url, visitor, bad_event, field):
    response = send(client, url, {"events": [click(), bad_event]})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]["1"]
    assert "0" not in response.json()["error"]["fields"]
    assert Event.objects.count() == 0


def test_unknown_model_version_is_rejected(client, url, visitor):
    response = send(client, url, {"events": [click(model_version=424242)]})
    assert response.status_code == 400
    assert "424242" in response.json()["error"]["message"]


@override_settings(AI_BEACON_MAX_BYTES=300)
def test_too_big_beacon_gets_413(client, url, visitor):
    response = send(client, url, {"events": [impression(product_ids=list(range(1, 80)))]})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert Event.objects.count() == 0


@override_settings(AI_BEACON_MAX_EVENTS=3)
def test_too_many_events_in_one_beacon_is_refused(client, url, visitor):
    response = send(client, url, {"events": [click()] * 4})
    assert response.status_code == 400
    assert "at most 3" in response.json()["error"]["message"]


@override_settings(AI_BEACON_RATE_LIMIT="3/m")
def test_beacons_are_rate_limited_per_visitor(client, url, visitor):
    statuses = [send(client, url, {"events": [click()]}).status_code for _ in range(5)]
    assert statuses == [204, 204, 204, 429, 429]
    assert Event.objects.count() == 3
    # Another visitor has their own allowance.
    client.cookies["aisle_vid"] = uuid.uuid4().hex
    assert send(client, url, {"events": [click()]}).status_code == 204


@pytest.mark.parametrize(
    "cookies, headers",
    [({"aisle_optout": "1"}, {}), ({}, {"HTTP_DNT": "1"}), ({}, {"HTTP_SEC_GPC": "1"})],
    ids=["cookie", "dnt", "gpc"],
)
def test_opted_out_visitors_beacons_are_accepted_but_not_stored(client, url, visitor, cookies, headers):
    for name, value in cookies.items():
        client.cookies[name] = value
    response = send(client, url, {"events": [click()]}, **(SAME_ORIGIN | headers))
    assert response.status_code == 204
    assert Event.objects.count() == 0


def test_beacon_needs_post_and_a_json_content_type(client, url, visitor):
    assert client.get(url, **SAME_ORIGIN).status_code == 405
    response = send(client, url, {"events": [click()]}, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert Event.objects.count() == 0


def test_beacon_needs_no_csrf_token(url, visitor):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.cookies["aisle_vid"] = visitor
    assert send(strict, url, {"events": [click()]}).status_code == 204


JSON_SCALARS = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text(max_size=80)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
BEACON_KEYS = ["type", "placement", "model_version", "list_id", "product_ids", "product_id", "position"]
FUZZED_EVENTS = st.dictionaries(
    st.sampled_from(BEACON_KEYS),
    st.sampled_from(["rec_impression", "rec_click", "home", "", "L1", 5, [1, 2]]) | JSON_VALUES,
    max_size=len(BEACON_KEYS),
)


@override_settings(AI_BEACON_RATE_LIMIT="1000000/m")
@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.one_of(JSON_VALUES, st.fixed_dictionaries({"events": st.lists(FUZZED_EVENTS | JSON_VALUES, max_size=5)})))
def test_any_json_gets_204_or_a_clear_400_never_a_server_error(client, url, visitor, payload):
    before = Event.objects.count()
    response = send(client, url, json.dumps(payload))
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        expected = 'Body must be a JSON object {"events": [...]}.'
    elif not events:
        expected = "No events."
    elif any(not isinstance(event, dict) or event.get("type") not in ("rec_impression", "rec_click") for event in events):
        expected = "Invalid events; nothing was stored."
    else:
        expected = None  # well-formed types: stored, or refused for a bad field, each with its message
    if response.status_code == 204:
        assert expected is None, (payload, expected)
        assert Event.objects.count() == before + len(events)
        assert sorted(Event.objects.order_by("-pk")[: len(events)].values_list("event_type", flat=True)) == sorted(
            event["type"] for event in events
        )
    else:
        assert response.status_code == 400, response.content
        message = response.json()["error"]["message"]
        assert message == expected if expected else message, (payload, message)
        assert Event.objects.count() == before


def test_a_beacon_naming_products_that_do_not_exist_is_refused(client, url, visitor):
    response = send(client, url, {"events": [impression(product_ids=[4, 99999]), click(product_id=88888)]})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Unknown product: 88888. Unknown product: 99999."
    assert Event.objects.count() == 0


@override_settings(AI_BEACON_RATE_LIMIT="1000/m", AI_BEACON_RATE_LIMIT_IP="3/m")
def test_a_fresh_visitor_cookie_is_no_fresh_allowance_the_client_ip_is_throttled_too(client, url):
    statuses = []
    for _ in range(5):
        client.cookies["aisle_vid"] = uuid.uuid4().hex  # every beacon from a "new" visitor
        statuses.append(send(client, url, {"events": [click()]}).status_code)
    assert statuses == [204, 204, 204, 429, 429]
    assert Event.objects.count() == 3
    other_ip = send(client, url, {"events": [click()]}, REMOTE_ADDR="10.9.8.7", **SAME_ORIGIN)
    assert other_ip.status_code == 204


@override_settings(AI_BEACON_RATE_LIMIT="1000/m", AI_BEACON_RATE_LIMIT_IP="2/m", AI_CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR")
def test_behind_a_trusted_proxy_the_configured_header_names_the_client(client, url, visitor):
    def from_ip(ip):
        return send(client, url, {"events": [click()]}, HTTP_X_FORWARDED_FOR=f"{ip}, 10.0.0.1", **SAME_ORIGIN).status_code

    assert [from_ip("203.0.113.5") for _ in range(3)] == [204, 204, 429]
    assert from_ip("203.0.113.6") == 204


def test_the_beacon_is_a_drf_view_with_throttles_and_a_text_plain_json_parser():
    from rest_framework.views import APIView

    from ai import beacon
    from ai.views import BeaconView

    assert issubclass(BeaconView, APIView)
    assert BeaconView.throttle_classes == [beacon.BeaconVisitorThrottle, beacon.BeaconIPThrottle]
    assert {parser.media_type for parser in BeaconView.parser_classes} == {"application/json", "text/plain"}


def test_a_deeply_nested_beacon_gets_400(client, url, visitor):
    response = send(client, url, '{"events": ' + "[" * 3000 + "]" * 3000 + "}")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Body is not valid JSON: maximum recursion depth exceeded")
    # Within the parser's depth but deeper than any beacon: refused before validation looks at it.
    response = send(client, url, '{"events": ' + "[" * 20 + "]" * 20 + "}")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Body is not valid JSON: nested more than 8 levels deep."
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "beacon_field, api_field, value",
    [
        ("product_id", "product_id", 0),
        ("product_id", "product_id", -1),
        ("product_id", "product_id", 2**63),
        ("product_id", "product_id", "abc"),
        ("product_id", "product_id", True),
        ("model_version", "model_version_id", 0),
        ("model_version", "model_version_id", 2**63),
        ("model_version", "model_version_id", "v3"),
    ],
)
def test_the_beacon_and_the_events_api_enforce_an_id_rule_identically(client, url, visitor, beacon_field, api_field, value):
    """One rule written once: the beacon validates with the events API's serializer, so a bad id gets the same
    message from both, and neither stores anything."""
    from rest_framework.test import APIClient

    from tests.factories import StaffFactory

    api = APIClient()
    api.force_login(StaffFactory(is_superuser=True))
    api_event = {"event_type": "rec_click", "visitor_id": visitor, "product_id": 5, api_field: value}
    api_response = api.post("/api/v1/events/", {"events": [api_event]}, format="json")
    beacon_response = send(client, url, {"events": [click(), click(**{beacon_field: value})]})

    assert api_response.status_code == beacon_response.status_code == 400
    api_messages = api_response.json()["error"]["fields"]["events"]["0"][api_field]
    assert beacon_response.json()["error"]["fields"]["1"][beacon_field] == " ".join(api_messages)
    assert api_messages[0] in {
        "Ensure this value is greater than or equal to 1.",
        "Ensure this value is less than or equal to 9223372036854775807.",
        "A valid integer is required.",
    }
    assert Event.objects.count() == 0


def test_an_id_valid_for_both_is_checked_against_the_catalogue_by_both(client, url, visitor):
    from rest_framework.test import APIClient

    from tests.factories import StaffFactory

    api = APIClient()
    api.force_login(StaffFactory(is_superuser=True))
    largest = 2**63 - 1
    api_response = api.post(
        "/api/v1/events/", {"events": [{"event_type": "rec_click", "visitor_id": visitor, "product_id": largest}]}, format="json"
    )
    beacon_response = send(client, url, {"events": [click(product_id=largest)]})

    assert api_response.status_code == beacon_response.status_code == 400
    assert api_response.json()["error"]["fields"]["events"]["0"]["product_id"] == [f"Unknown product: {largest}."]
    assert beacon_response.json()["error"]["message"] == f"Unknown product: {largest}."
