"""Attribution of purchases to recommendation clicks, the figures per placement and version, the admin page."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ai.models import Event
from ai.recs.attribution import attributed_purchases
from ai.recs.stats import performance
from tests.factories import StaffFactory, UserFactory

from .conftest import make_popular, register_live


def click(visitor, product_id, *, at, placement="home", version=None, user=None):
    return Event.objects.create(
        event_type="rec_click", visitor_id=visitor, user=user, product_id=product_id, placement=placement,
        model_version=version, extra={"list_id": "a" * 32}, created_at=at,
    )


def impression(visitor, product_ids, *, at, placement="home", version=None):
    return Event.objects.create(
        event_type="rec_impression", visitor_id=visitor, placement=placement, model_version=version,
        extra={"list_id": "a" * 32, "product_ids": list(product_ids)}, created_at=at,
    )


def purchase(visitor, product_id, *, at, order_id=1, quantity=2, unit_price="4.50", user=None):
    return Event.objects.create(
        event_type="purchase", visitor_id=visitor, user=user, product_id=product_id,
        extra={"order_id": order_id, "quantity": quantity, "unit_price": unit_price}, created_at=at,
    )


@pytest.mark.parametrize(
    "hours_later, same_shopper, same_product, attributed",
    [
        (1, True, True, True),
        (23.9, True, True, True),
        (24.1, True, True, False),  # outside AI_ATTRIBUTION_WINDOW_HOURS (24)
        (-1, True, True, False),  # bought before clicking
        (1, False, True, False),
        (1, True, False, False),
    ],
)
def test_attribution_window(products, hours_later, same_shopper, same_product, attributed):
    now = timezone.now() - timedelta(days=2)
    click("v1", products[0].pk, at=now, placement="product_also_bought")
    purchase("v1" if same_shopper else "v2", products[0 if same_product else 1].pk, at=now + timedelta(hours=hours_later))
    found = attributed_purchases()
    assert len(found) == int(attributed)
    if attributed:
        assert found[0].placement == "product_also_bought"
        assert found[0].revenue == Decimal("9.00")
        assert found[0].order_id == 1


def test_window_is_configurable_and_user_clicks_count_across_devices(settings, products):
    settings.AI_ATTRIBUTION_WINDOW_HOURS = 2
    user = UserFactory()
    now = timezone.now() - timedelta(days=1)
    click("phone", products[0].pk, at=now, user=user)
    click("phone", products[1].pk, at=now, user=user)
    purchase("laptop", products[0].pk, at=now + timedelta(hours=1), user=user)
    purchase("laptop", products[1].pk, at=now + timedelta(hours=3), user=user)
    assert [p.product_id for p in attributed_purchases()] == [products[0].pk]


def test_latest_click_wins(products):
    now = timezone.now() - timedelta(days=1)
    click("v", products[0].pk, at=now, placement="home")
    click("v", products[0].pk, at=now + timedelta(minutes=5), placement="basket")
    purchase("v", products[0].pk, at=now + timedelta(minutes=10))
    assert [p.placement for p in attributed_purchases()] == ["basket"]


@pytest.fixture
def two_arms(products):
    """A live and a candidate popularity version, with impressions, clicks and purchases for each."""
    from ai.recs.algorithms.popularity import Popularity
    from ai.recs.data import build_interactions

    make_popular(products[:3])
    data = build_interactions()
    live = register_live("popularity", Popularity().fit(data), data.item_keys)
    candidate = register_live("popularity", Popularity(half_life_days=1).fit(data), data.item_keys, promote=False)
    day = timezone.now() - timedelta(days=1)
    for n in range(10):
        impression(f"a{n}", [products[0].pk], at=day, version=live)
    for n in range(4):
        impression(f"b{n}", [products[0].pk], at=day, version=candidate)
    click("a0", products[0].pk, at=day, version=live)
    click("b0", products[0].pk, at=day, version=candidate)
    click("b1", products[1].pk, at=day, version=candidate)
    purchase("b0", products[0].pk, at=day + timedelta(minutes=3), order_id=7, quantity=1, unit_price="10.00")
    purchase("b1", products[1].pk, at=day + timedelta(minutes=3), order_id=8, quantity=3, unit_price="2.00")
    return live, candidate


def test_figures_per_placement_and_version(two_arms, django_assert_max_num_queries):
    live, candidate = two_arms
    with django_assert_max_num_queries(3):
        report = performance(days=7)
    by_version = {row.model_version_id: row for row in report.for_placement("home")}
    assert set(by_version) == {live.pk, candidate.pk}
    assert (by_version[live.pk].total.impressions, by_version[live.pk].total.clicks) == (10, 1)
    assert by_version[live.pk].total.ctr == pytest.approx(0.1)
    assert by_version[live.pk].total.order_count == 0
    arm = by_version[candidate.pk].total
    assert (arm.impressions, arm.clicks, arm.order_count, arm.revenue) == (4, 2, 2, Decimal("16.00"))
    assert arm.ctr == pytest.approx(0.5)
    assert "v2 (candidate)" in by_version[candidate.pk].label
    assert len(report.days) == 7


def test_admin_page_shows_the_figures_and_charts(client, two_arms):
    client.force_login(StaffFactory())
    index = client.get("/admin/")
    assert "Recommendation performance" in index.content.decode()
    response = client.get("/admin/ai/recommendation-performance/?days=7")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Recommended for you" in html
    assert html.count("class=\"ai-chart\"") == 2  # CTR and revenue for the one placement
    assert "50.00%" in html and "16.00" in html


def test_admin_page_is_for_staff_only(client, db):
    client.force_login(UserFactory())
    response = client.get("/admin/ai/recommendation-performance/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
