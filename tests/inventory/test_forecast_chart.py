"""The forecast chart (SVG drawn server-side) and the admin pages that show it: a product's page, the
forecast view linked from the reorder and overstock lists, and the summed category and shop forecasts."""
from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pytest

from ai.forecast import service
from ai.forecast.chart import forecast_chart_svg, group_history, stock_projection
from shop.models import Category, Product
from tests.factories import CategoryFactory, MerchantFactory, ProductFactory, StaffFactory, UserFactory

DAYS = [date(2026, 11, 2) + timedelta(days=i) for i in range(4)]
HISTORY_DAYS = [date(2026, 10, 26) + timedelta(days=i) for i in range(6)]


def polygon_points(svg: str, series: str) -> list[tuple[float, float]]:
    match = re.search(rf'<polygon data-series="{series}"[^>]* points="([^"]+)"', svg)
    assert match, f"no {series} polygon"
    return [tuple(map(float, pair.split(","))) for pair in match.group(1).split()]  # type: ignore[misc]


def polyline_points(svg: str, series: str) -> list[list[tuple[float, float]]]:
    return [
        [tuple(map(float, pair.split(","))) for pair in found.split()]  # type: ignore[misc]
        for found in re.findall(rf'<polyline data-series="{series}"[^>]* points="([^"]+)"', svg)
    ]


def test_stock_projection_sells_the_point_forecast_and_stops_at_zero():
    assert stock_projection(10, [3, 4, 5, 2]) == [7.0, 3.0, 0.0, 0.0]
    assert stock_projection(10, [-1, 2]) == [10.0, 8.0]  # a negative forecast sells nothing


def test_chart_draws_history_forecast_both_bands_and_the_stock_panel():
    svg = forecast_chart_svg(
        history_days=HISTORY_DAYS, history=[np.nan, np.nan, 2, 4, np.nan, 6], days=DAYS, mean=[5, 5, 5, 5],
        bands={80: ([3, 3, 3, 3], [7, 7, 7, 7]), 95: ([1, 1, 1, 1], [9, 9, 9, 10])},
        stock=12, reorder_point=8.0, title="Mug (M-1)",
    )
    assert svg.startswith('<svg class="ai-chart forecast-chart"') and svg.endswith("</svg>")
    # Nothing before the first sale; the day without data is a gap: one segment of two days, one lone point.
    assert [len(segment) for segment in polyline_points(svg, "history")] == [2]
    assert svg.count('<circle data-series="history"') == 1
    forecast = polyline_points(svg, "forecast")
    assert len(forecast) == 1 and len(forecast[0]) == 4 and len({y for _, y in forecast[0]}) == 1  # flat 5 a day
    band95, band80 = polygon_points(svg, "band95"), polygon_points(svg, "band80")
    assert len(band95) == len(band80) == 8  # 4 upper corners, then 4 lower ones back
    # In SVG y grows downwards: the 95 % band reaches higher (smaller y) and lower than the 80 % one.
    assert min(y for _, y in band95) < min(y for _, y in band80) and max(y for _, y in band95) > max(y for _, y in band80)
    # The wide band is drawn first, so the narrow one stays visible on top of it.
    assert svg.index('data-series="band95"') < svg.index('data-series="band80"') < svg.index('data-series="forecast"')
    # The y axis runs from 0 to 10 (the highest 95 % bound): the mean's y lies halfway.
    top, height = 30, 220
    assert forecast[0][0][1] == pytest.approx(top + height / 2, abs=0.1)
    # Stock: 12, then 7 and 2 after the first two days, 0 after the third; the reorder point at 8 of a 0..12.5 axis.
    stock = polyline_points(svg, "stock-projection")[0]
    assert len(stock) == 4
    ys = [y for _, y in stock]
    assert ys[0] < ys[1] < ys[2] < ys[3]
    assert '<title>reorder point 8.0</title>' in svg
    assert 'aria-label="Mug (M-1)"' in svg


def test_chart_without_stock_has_no_stock_panel_and_an_empty_forecast_says_so():
    svg = forecast_chart_svg(
        history_days=HISTORY_DAYS, history=[1, 2, 3, 4, 5, 6], days=DAYS, mean=[1, 1, 1, 1],
        bands={80: ([0] * 4, [2] * 4), 95: ([0] * 4, [3] * 4)},
    )
    assert 'data-series="stock-projection"' not in svg and 'data-series="reorder-point"' not in svg
    assert 'height="280"' in svg  # 14 + 220 + 24 + 22: one panel
    empty = forecast_chart_svg(history_days=[], history=[], days=[], mean=[], bands={}, empty_message="Nothing")
    assert "Nothing" in empty and "polyline" not in empty


@pytest.fixture
def superuser(db):
    return StaffFactory(is_superuser=True)


@pytest.mark.slow
def test_product_admin_page_shows_the_forecast_chart_with_the_reorder_point(client, superuser, forecast_shop):
    merchant, supplier, products = forecast_shop
    client.force_login(superuser)
    html = client.get(f"/admin/shop/product/{products[0].pk}/change/").content.decode()
    assert 'id="forecast-chart"' in html
    for series in ("history", "forecast", "band80", "band95", "stock-projection", "reorder-point"):
        assert f'data-series="{series}"' in html, series
    # The weekly product's reorder point (hand-computed in test_reorder_list: 25 units, no safety stock).
    assert "<title>reorder point 25.0</title>" in html
    assert f'href="/admin/shop/purchaseorder/forecast/{products[0].pk}/"' in html


@pytest.mark.slow
def test_forecast_view_is_linked_from_both_lists_and_shows_the_figures(client, superuser, forecast_shop):
    merchant, supplier, products = forecast_shop
    client.force_login(superuser)
    url = f"/admin/shop/purchaseorder/forecast/{products[0].pk}/"
    assert url in client.get("/admin/shop/purchaseorder/reorder/").content.decode()
    assert f"/admin/shop/purchaseorder/forecast/{products[1].pk}/" in client.get("/admin/shop/purchaseorder/overstock/").content.decode()
    html = client.get(url).content.decode()
    assert 'data-series="band95"' in html and "<th>reorder point</th><td>25.0</td>" in html
    forecast = service.live_forecasts().get(products[0].pk)
    assert html.count("<tr><td>20") == len(forecast.days)  # one row per forecast day (dates 20xx-…)


@pytest.mark.slow
def test_product_without_a_forecast_says_so(client, superuser, forecast_shop):
    merchant, supplier, products = forecast_shop
    never_sold = ProductFactory(merchant=merchant)
    client.force_login(superuser)
    html = client.get(f"/admin/shop/purchaseorder/forecast/{never_sold.pk}/").content.decode()
    assert 'id="forecast-chart-missing"' in html and "forecast-chart\"" not in html and "data-series" not in html
    assert client.get("/admin/shop/purchaseorder/forecast/999999/").status_code == 404


@pytest.mark.slow
def test_category_and_shop_forecasts_are_sums_with_intervals(client, superuser, forecast_shop):
    merchant, supplier, products = forecast_shop
    parent = CategoryFactory(name="Home", slug="home")
    child = Category.objects.create(parent=parent, name="Mugs", slug="mugs")
    Product.objects.filter(pk=products[0].pk).update(category=child)
    Product.objects.filter(pk=products[1].pk).update(category=parent)
    live = service.live_forecasts()
    client.force_login(superuser)
    html = client.get("/admin/shop/purchaseorder/forecast/").content.decode()
    total = live.arrays["mean"].sum()
    # The shop, "home" (both products: its own and its sub-category's) and "home/mugs" (one).
    assert f'<tr><td><a href="?">Whole shop</a></td><td>2</td><td>{total:.0f}</td></tr>' in html
    assert f'<tr><td><a href="?category={parent.pk}">home</a></td><td>2</td><td>{total:.0f}</td></tr>' in html
    mugs = live.arrays["mean"][live.index[products[0].pk]].sum()
    assert f'<tr><td><a href="?category={child.pk}">home/mugs</a></td><td>1</td><td>{mugs:.0f}</td></tr>' in html
    page = client.get(f"/admin/shop/purchaseorder/forecast/?category={child.pk}").content.decode()
    assert f'data-group="{child.pk}"' in page and 'data-series="band95"' in page and "home/mugs: units per day" in page
    assert "showing the whole shop" in client.get("/admin/shop/purchaseorder/forecast/?category=nope").content.decode()


@pytest.mark.slow
def test_group_sums_add_means_and_intervals_in_quadrature(forecast_shop):
    merchant, supplier, products = forecast_shop
    live = service.live_forecasts()
    ids = [p.pk for p in products]
    summed = live.aggregate(ids)
    rows = [live.index[pid] for pid in ids]
    mean = live.arrays["mean"][rows]
    assert summed["mean"] == pytest.approx(mean.sum(axis=0).round(3).tolist())
    half = np.sqrt(((live.arrays["hi95"][rows] - mean) ** 2).sum(axis=0))
    assert summed["hi95"] == pytest.approx((mean.sum(axis=0) + half).round(3).tolist(), abs=1e-3)
    history = group_history(live, ids)
    assert np.nansum(history) == pytest.approx(np.nansum(live.arrays["history"][rows]))


@pytest.mark.slow
def test_group_page_queries_do_not_grow_with_categories(client, superuser, forecast_shop):
    merchant, supplier, products = forecast_shop
    client.force_login(superuser)
    client.get("/admin/shop/purchaseorder/forecast/")  # warm the live model and the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/admin/shop/purchaseorder/forecast/")
    for n in range(4):
        category = CategoryFactory(name=f"C{n}", slug=f"c{n}")
        Product.objects.filter(pk=products[n % 2].pk).update(category=category)
    with CaptureQueriesContext(connection) as more:
        client.get("/admin/shop/purchaseorder/forecast/")
    assert len(more) == len(few)


@pytest.mark.slow
def test_forecast_pages_need_the_view_product_permission(client, forecast_shop):
    merchant, supplier, products = forecast_shop
    client.force_login(UserFactory(is_staff=True))
    assert client.get(f"/admin/shop/purchaseorder/forecast/{products[0].pk}/").status_code == 403
    assert client.get("/admin/shop/purchaseorder/forecast/").status_code == 403


def test_without_a_live_demand_version_the_pages_say_so(client, superuser, settings, tmp_path):
    from ai import registry

    settings.MEDIA_ROOT = tmp_path / "media"
    registry.clear_cache()
    product = ProductFactory()
    client.force_login(superuser)
    assert "No live demand forecast yet" in client.get("/admin/shop/purchaseorder/forecast/").content.decode()
    assert 'id="forecast-chart-missing"' in client.get(f"/admin/shop/purchaseorder/forecast/{product.pk}/").content.decode()
    page = client.get(f"/admin/shop/product/{product.pk}/change/").content.decode()
    assert 'id="forecast-chart-missing"' in page and "data-series" not in page
    assert client.get("/admin/shop/product/add/").status_code == 200  # no product yet: no chart, no error


@pytest.mark.slow
def test_staff_linked_to_a_rival_merchant_sees_none_of_our_forecasts(client, forecast_shop):
    """The merchant scope of the admin holds on the forecast pages: a product page of ours is not found and
    the shop-level sums leave our products out."""
    from django.contrib.auth.models import Permission

    merchant, supplier, products = forecast_shop
    rival = MerchantFactory()
    staff = StaffFactory(is_superuser=False)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="shop", codename="view_product"))
    rival.users.add(staff)
    client.force_login(staff)
    assert client.get(f"/admin/shop/purchaseorder/forecast/{products[0].pk}/").status_code == 404
    html = client.get("/admin/shop/purchaseorder/forecast/").content.decode()
    assert '<tr><td><a href="?">Whole shop</a></td><td>0</td><td>0</td></tr>' in html
    merchant.users.add(staff)  # linked to us as well: our forecast is in reach again
    assert client.get(f"/admin/shop/purchaseorder/forecast/{products[0].pk}/").status_code == 200
