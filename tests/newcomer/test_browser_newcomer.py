"""What a newcomer sees first, in a real browser: phones, placeholders, and a clean console."""
from __future__ import annotations

import pytest

from ai.recs.algorithms.cooccurrence import CoOccurrence
from ai.recs.data import build_interactions
from tests.factories import CategoryFactory, ProductFactory, StaffFactory
from tests.recs_serving.conftest import add_events, fresh_serving, make_popular, register_live  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def shop(db):
    """Ten top-level categories (the demo's count) and 24 products with long, realistic titles."""
    categories = [CategoryFactory(name=f"{name}") for name in (
        "Bags", "Candles & Lighting", "Christmas", "Garden", "Kitchen & Dining", "Party", "Stationery",
        "Storage", "Toys & Games", "Other gifts")]
    return [
        ProductFactory(category=categories[i % 10], title=f"Jumbo Bag Red Retrospot Number {i}", stock=20)
        for i in range(24)
    ]


def console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}") if response.status >= 400 else None)
    return errors


def test_on_a_phone_products_start_within_the_first_screen_and_nothing_overflows(shop, browser_page):
    page = browser_page
    page.set_viewport_size(PHONE)
    for path in ["/", shop[0].category.get_absolute_url(), shop[0].get_absolute_url(), "/search/?q=jumbo", "/basket/"]:
        page.goto(page.base_url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
    page.goto(page.base_url + "/")
    first_card = page.locator(".product-card").first.bounding_box()
    assert first_card is not None and first_card["y"] < 900 - 120, first_card  # at least its picture's top shows
    strip = page.locator(".category-tiles")
    assert strip.evaluate("el => el.scrollWidth > el.clientWidth")  # ten categories: one strip that scrolls sideways
    page.screenshot(path="/tmp/newcomer-phone-home.png")


def test_a_product_has_the_same_placeholder_on_grid_and_recommendation_cards(shop, browser_page):
    make_popular(shop[:6])
    for shopper in range(8):
        add_events(f"pair-{shopper}", [shop[0].pk, shop[1].pk], event_type="purchase")
    data = build_interactions()
    register_live("cooccurrence", CoOccurrence(neighbours=10, recency=1.0).fit(data), data.item_keys)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 2000})

    page.goto(page.base_url + shop[0].get_absolute_url())
    rec_card = page.locator(f'[data-placement="product_also_bought"] img[data-product-picture="{shop[1].pk}"]')
    rec_src = rec_card.get_attribute("src")
    page.goto(page.base_url + shop[1].category.get_absolute_url())
    grid_src = page.locator(f'.product-grid img[data-product-picture="{shop[1].pk}"]').get_attribute("src")
    assert rec_src == grid_src and rec_src.endswith("/JB.svg")
    loaded = page.locator(f'img[data-product-picture="{shop[1].pk}"]').evaluate("img => img.complete && img.naturalWidth")
    assert loaded == 320


def test_no_console_errors_on_storefront_and_admin_pages(shop, browser_page):
    page = browser_page
    errors = console_errors(page)
    paths = ["/", shop[0].category.get_absolute_url(), shop[0].get_absolute_url(), "/search/?q=bag", "/basket/",
             "/account/login/", "/account/signup/", "/ai/privacy/", "/admin/login/"]
    for path in paths:
        page.goto(page.base_url + path)
        page.wait_for_load_state("load")
    sign_in_as_superuser(page)
    for path in ["/admin/", "/admin/ai/trainingrun/", "/admin/ai/trainingrun/train/", "/admin/ai/modelversion/",
                 "/admin/ai/event/", "/admin/ai/recommendation-performance/", "/admin/ai/labelset/",
                 "/admin/ai/conversation/", "/admin/shop/product/", f"/admin/shop/product/{shop[0].pk}/change/",
                 "/admin/shop/order/", "/admin/shop/purchaseorder/", "/admin/shop/purchaseorder/reorder/",
                 "/admin/shop/purchaseorder/overstock/", "/admin/shop/purchaseorder/forecast/", "/admin/shop/apikey/"]:
        page.goto(page.base_url + path)
        page.wait_for_load_state("load")
        assert page.locator("#content").count() == 1, path
    assert errors == []


def sign_in_as_superuser(page) -> None:
    boss = StaffFactory(username="boss", is_superuser=True)
    boss.set_password("pw-for-the-test-1")
    boss.save()
    page.goto(page.base_url + "/admin/login/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("pw-for-the-test-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")


def test_a_run_stopped_at_its_time_cap_says_so_on_its_page(shop, browser_page):
    from ai.models import TrainingRun

    run = TrainingRun.objects.create(
        kind="sasrec", status=TrainingRun.Status.SUCCEEDED, epoch=19, progress=100.0,
        status_detail="stopped at max_seconds after 19 of 40 epochs",
        loss_curve=[{"step": 0, "epoch": e, "loss": 8.0 - e / 10, "val_ndcg": e / 200} for e in range(1, 20)],
    )
    page = browser_page
    errors = console_errors(page)
    sign_in_as_superuser(page)
    page.goto(f"{page.base_url}/admin/ai/trainingrun/{run.pk}/change/")
    detail = page.locator(".field-status_detail")
    assert "stopped at max_seconds after 19 of 40 epochs" in detail.inner_text()
    assert detail.is_visible()
    # A history record: no Save or Delete on its page.
    assert page.locator('input[name="_save"], a.deletelink').count() == 0
    assert errors == []


# (viewport width, columns of the product grids there: 4 on wide screens, 2 below 860 px)
WIDTHS = [(1280, 4), (800, 2), (390, 2)]


@pytest.mark.parametrize("width, columns", WIDTHS)
def test_fixed_lists_fill_whole_rows_of_their_grid_at_every_width(shop, browser_page, width, columns):
    """Bestsellers and each recommendation block are one row, or whole rows: never a ragged last row."""
    for product in shop[12:17]:  # seven more products in the viewed product's category: "Similar products"
        product.category = shop[0].category
        product.save()
    make_popular(shop[:20])
    for shopper in range(8):
        add_events(f"pair-{shopper}", [shop[0].pk, shop[1].pk, shop[2].pk], event_type="purchase")
    data = build_interactions()
    register_live("cooccurrence", CoOccurrence(neighbours=10, recency=1.0).fit(data), data.item_keys)
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    grids_seen = []
    for path in ["/", shop[0].get_absolute_url()]:
        page.goto(page.base_url + path)
        grids = page.locator(".product-grid, .ai-recs-grid")
        for g in range(grids.count()):
            tops = grids.nth(g).evaluate("el => Array.from(el.children).map(c => Math.round(c.getBoundingClientRect().top))")
            rows = sorted(set(tops))
            where = f"{path}, grid {g}: {len(tops)} products at {width}px"
            assert tops.count(rows[0]) == min(columns, len(tops)), where  # the grid has its columns
            assert len(rows) == 1 or len(tops) % columns == 0, where  # one row, or only whole rows
            grids_seen.append(len(tops))
    # Bestsellers, "Popular right now", "Customers also bought" and "Similar products" (seven candidates).
    assert len(grids_seen) == 4, grids_seen
