"""In Debian's chromium, as staff: the reorder list, a product's forecast chart (a screenshot of the chart
element checked pixel by pixel for its bands, forecast, reorder point and stock projection), the product's
admin page with the same chart, and the overstock list."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from ai import registry
from ai.training import start_run
from shop.models import InventoryDefaults, ProductInventory, Supplier
from shop.services import replenishment
from tests.factories import MerchantFactory, ProductFactory, StaffFactory
from tests.forecast.conftest import open_days
from tests.forecast.shop_history import place

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery"


@pytest.fixture
def noisy_shop(db, settings, tmp_path, django_capture_on_commit_callbacks):
    """Two products with noisy (Poisson) daily demand over ten weeks, so that the intervals have width:
    one with 5 units in stock (due for reorder), one with 2,000 (overstocked); a live demand version."""
    settings.MEDIA_ROOT = tmp_path / "media"
    registry.clear_cache()
    merchant = MerchantFactory()
    supplier = Supplier.objects.create(merchant=merchant, name="Acme Wholesale", email="orders@acme.example")
    due, overstocked = ProductFactory(merchant=merchant, stock=5), ProductFactory(merchant=merchant, stock=2000)
    for product in (due, overstocked):
        ProductInventory.objects.create(product=product, supplier=supplier, pack_size=6)
    InventoryDefaults.objects.create(merchant=merchant, lead_time_days=7, overstock_days=60)
    rng = np.random.default_rng(3)
    for day in open_days(10, timezone.localdate() - timedelta(days=70)):
        for product, level in ((due, 6.0), (overstocked, 2.0)):
            if (quantity := int(rng.poisson(level))) > 0:
                place(product, day, quantity)
    options = {"models": "seasonal_naive,window_average,croston_sba", "horizon_days": 14, "n_jobs": 1}
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run("demand", options, via="test")
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    yield due, overstocked
    registry.clear_cache()


def colour_pixels(png: bytes, rgb: tuple[int, int, int], tolerance: int = 12) -> int:
    """How many pixels of the screenshot are within `tolerance` (per channel) of the colour."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    return int((np.abs(pixels - np.array(rgb)).max(axis=-1) <= tolerance).sum())


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_staff_open_reorder_list_forecast_chart_and_overstock(noisy_shop, browser_page, monkeypatch, tmp_path):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls beside Playwright's event loop
    from PIL import Image
    from playwright.sync_api import expect

    from ai.forecast import chart as forecast_chart

    due, overstocked = noisy_shop
    [row] = replenishment.reorder_list()
    assert row.product == due and row.plan.safety_stock > 0
    StaffFactory(username="planner", is_superuser=True)
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 1200})
    page.goto(page.base_url + "/admin/login/")
    page.fill("#id_username", "planner")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)

    page.goto(page.base_url + "/admin/shop/purchaseorder/reorder/")
    reorder_list = page.locator("#reorder-list tbody")
    expect(reorder_list).to_contain_text(due.sku)
    expect(reorder_list).not_to_contain_text(overstocked.sku)
    expect(reorder_list.locator("tr")).to_have_count(1)
    reorder_list.locator("tr", has_text=due.sku).locator("a.forecast-link").click()
    page.wait_for_url(f"**/admin/shop/purchaseorder/forecast/{due.pk}/")

    svg = page.locator("#forecast-chart svg.forecast-chart")
    expect(svg).to_be_visible()
    for series, count in {"band95": 1, "band80": 1, "forecast": 1, "stock-projection": 1, "reorder-point": 1}.items():
        expect(svg.locator(f'[data-series="{series}"]')).to_have_count(count)
    expect(svg.locator('polyline[data-series="history"]')).not_to_have_count(0)
    expect(page.locator(".forecast-figures")).to_contain_text(re.compile(rf"reorder point\s*{row.plan.reorder_point:.1f}"))
    height = int(svg.get_attribute("height"))
    assert svg.get_attribute("width") == "760" and height > 400  # two panels: demand, then stock
    box = svg.bounding_box()
    assert box is not None and (round(box["width"]), round(box["height"])) == (760, height)

    chart_markup = svg.evaluate("svg => svg.outerHTML")
    png = svg.screenshot(path=str(tmp_path / "forecast-chart.png"))
    shot_width, shot_height = Image.open(io.BytesIO(png)).size
    # The element's box in whole device pixels: a fractional top on the page may add one row.
    assert shot_width == 760 and shot_height in (height, height + 1)
    # The bands are filled areas: thousands of pixels each. The narrow band hides the middle of the wide
    # one, so the wide band shows only above and below it.
    assert colour_pixels(png, hex_rgb(forecast_chart.BAND_COLOURS[80]), 4) > 2000
    assert colour_pixels(png, hex_rgb(forecast_chart.BAND_COLOURS[95]), 4) > 500
    # Lines: the forecast over 12 open days, the history over 60, the dashed reorder point across the panel.
    assert colour_pixels(png, hex_rgb(forecast_chart.FORECAST_COLOUR), 40) > 100
    assert colour_pixels(png, hex_rgb(forecast_chart.HISTORY_COLOUR), 30) > 300
    assert colour_pixels(png, hex_rgb(forecast_chart.REORDER_COLOUR), 40) > 200
    assert colour_pixels(png, hex_rgb(forecast_chart.STOCK_COLOUR), 40) > 20

    page.goto(page.base_url + f"/admin/shop/product/{due.pk}/change/")
    on_product_page = page.locator("#forecast-chart svg.forecast-chart")
    expect(on_product_page).to_be_visible()
    expect(on_product_page.locator('[data-series="band95"]')).to_have_count(1)
    # The same chart as on the forecast page (the screenshots may differ by the sub-pixel row of its position).
    assert on_product_page.evaluate("svg => svg.outerHTML") == chart_markup

    page.goto(page.base_url + "/admin/shop/purchaseorder/overstock/")
    overstock = page.locator("#overstock-list tbody")
    expect(overstock).to_contain_text(overstocked.sku)
    expect(overstock).not_to_contain_text(due.sku)
    overstock.locator("tr", has_text=overstocked.sku).locator("a.forecast-link").click()
    page.wait_for_url(f"**/admin/shop/purchaseorder/forecast/{overstocked.pk}/")
    expect(page.locator("#forecast-chart svg.forecast-chart [data-series=band80]")).to_have_count(1)
