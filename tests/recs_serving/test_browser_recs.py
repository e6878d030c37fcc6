"""Acceptance: a real browser sees the recommendation blocks, clicks one, and the click is recorded
with its placement and model version (through static/ai/beacon.js and the beacon endpoint)."""
from __future__ import annotations

import time

import pytest

from ai.models import Event
from ai.recs.algorithms.cooccurrence import CoOccurrence
from ai.recs.data import build_interactions

from .conftest import add_events, make_popular, register_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch):
    """Playwright's sync API keeps an event loop in this thread; the ORM calls here are still plain sync code."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def wait_for(query, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(query())
        if found:
            return found
        time.sleep(0.2)
    return []


def test_blocks_are_shown_and_a_click_is_recorded_with_placement_and_version(products, browser_page):
    from playwright.sync_api import expect

    make_popular(products)
    for shopper in range(12):  # product 0 is always bought with product 5
        add_events(f"pair-{shopper}", [products[0].pk, products[5].pk], event_type="purchase")
    data = build_interactions()
    version = register_live("cooccurrence", CoOccurrence(neighbours=10, recency=1.0).fit(data), data.item_keys)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 2400})  # every block in view: impressions are sent

    # Home page, new visitor: popular products.
    page.goto(page.base_url + "/")
    home = page.locator('[data-rec-list][data-placement="home"]')
    expect(home).to_be_visible()
    expect(home.get_by_role("heading", name="Popular right now")).to_be_visible()
    assert home.locator("a[data-rec-item]").count() >= 4

    # Product page: "Customers also bought" from the live co-occurrence version.
    page.goto(page.base_url + products[0].get_absolute_url())
    block = page.locator('[data-rec-list][data-placement="product_also_bought"]')
    expect(block).to_be_visible()
    expect(block.get_by_role("heading", name="Customers also bought")).to_be_visible()
    assert block.get_attribute("data-model-version") == str(version.pk)
    list_id = block.get_attribute("data-list-id")
    first = block.locator("a[data-rec-item]").first
    assert first.get_attribute("data-product-id") == str(products[5].pk)
    expect(page.locator(f'a[data-rec-item][data-product-id="{products[0].pk}"]')).to_have_count(0)

    impressions = wait_for(
        lambda: Event.objects.filter(event_type="rec_impression", placement="product_also_bought")
    )
    assert impressions and impressions[0].model_version_id == version.pk

    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(products[5].title)
    clicks = wait_for(lambda: Event.objects.filter(event_type="rec_click"))
    assert len(clicks) == 1
    click = clicks[0]
    assert (click.placement, click.model_version_id, click.product_id) == ("product_also_bought", version.pk, products[5].pk)
    assert click.extra["list_id"] == list_id
    assert click.visitor_id  # the browser's first-party visitor id
