"""static/ai/beacon.js in a real browser: an impression only once a list scrolls into view (and once),
a click with its position, and nothing stored for a visitor who opted out."""
from __future__ import annotations

import time

import pytest

from ai.models import Event
from tests.factories import ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAB_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script src="/static/ai/beacon.js" defer></script></head>
<body>
  <h1>Lab</h1>
  <div style="height: 3000px">spacer</div>
  <section id="recs" data-rec-list data-placement="lab_shelf" data-model-version="" data-list-id="list-7">
    <a data-rec-item data-product-id="11" href="/beacon-lab/next">Eleven</a>
    <a data-rec-item data-product-id="12" href="/beacon-lab/next">Twelve</a>
    <a data-rec-item data-product-id="13" href="/beacon-lab/next">Thirteen</a>
  </section>
  <div style="height: 3000px">more</div>
</body></html>"""


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch):
    """Playwright's sync API keeps an event loop in this thread; the ORM calls here are plain sync code."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def lab(browser_page):
    """The browser page, with /beacon-lab/ answered by a page holding one recommendation list below the fold
    (served by the browser on the live server's own origin, so the beacon goes to the real endpoint)."""
    for pk in (11, 12, 13):  # the beacon refuses products that do not exist
        ProductFactory(pk=pk)
    page = browser_page
    page.route("**/beacon-lab/**", lambda route: route.fulfill(status=200, content_type="text/html", body=LAB_PAGE))
    page.set_viewport_size({"width": 800, "height": 600})
    return page


def wait_for_count(query, count: int, timeout: float = 10.0) -> list[Event]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(query())
        if len(found) >= count:
            return found
        time.sleep(0.2)
    return list(query())


def test_impression_once_in_view_then_click(lab):
    page = lab
    page.goto(page.base_url + "/beacon-lab/")
    page.wait_for_timeout(1500)  # longer than the script's flush delay
    assert Event.objects.count() == 0  # the list is below the fold: not seen yet

    page.locator("#recs").scroll_into_view_if_needed()
    shown = wait_for_count(lambda: Event.objects.filter(event_type="rec_impression"), 1)
    assert len(shown) == 1
    impression = shown[0]
    assert (impression.placement, impression.model_version_id) == ("lab_shelf", None)
    assert impression.extra == {"list_id": "list-7", "product_ids": [11, 12, 13]}
    assert impression.visitor_id

    # Scrolling away and back does not count it again.
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    page.locator("#recs").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    assert Event.objects.filter(event_type="rec_impression").count() == 1

    page.get_by_text("Twelve").click()
    clicks = wait_for_count(lambda: Event.objects.filter(event_type="rec_click"), 1)
    assert [(c.product_id, c.placement, c.extra) for c in clicks] == [(12, "lab_shelf", {"list_id": "list-7", "position": 1})]
    assert clicks[0].visitor_id == impression.visitor_id


def test_nothing_is_stored_for_a_visitor_who_opted_out(lab):
    page = lab
    page.context.add_cookies([{"name": "aisle_optout", "value": "1", "url": page.base_url}])
    page.goto(page.base_url + "/beacon-lab/")
    page.locator("#recs").scroll_into_view_if_needed()
    page.get_by_text("Eleven").click()
    page.wait_for_timeout(1500)
    assert Event.objects.count() == 0
    assert not [c for c in page.context.cookies() if c["name"] == "aisle_vid"]
