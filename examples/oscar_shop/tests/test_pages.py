"""ai's pages and blocks inside the Oscar shop: `{% recommendations %}` on Oscar's product and basket pages,
ai's privacy page in Oscar's layout (ai/base.html overridden), and ai's admin pages."""
from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from ai import tracking
from ai.models import TrainingRun

pytestmark = pytest.mark.slow


def recommended_ids(html: str, placement: str) -> list[int]:
    """The product ids of one rendered recommendation block, in order."""
    block = re.search(rf'<section class="ai-recs"[^>]*data-placement="{placement}".*?</section>', html, re.S)
    assert block, f"no {placement} block on the page"
    return [int(pk) for pk in re.findall(r'data-product-id="(\d+)"', block.group(0))]


@pytest.fixture
def trained(order_history):
    tracking.backfill_purchase_events(progress=False)
    for kind in ("popularity", "cooccurrence"):
        call_command("ai_train", kind, "--wait", stdout=StringIO(), verbosity=0)


def test_oscars_product_page_shows_customers_also_bought(client, trained, catalogue):
    response = client.get(catalogue[0].get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div id="content_inner">' in html  # Oscar's own layout around it
    also_bought = recommended_ids(html, "product_also_bought")
    assert also_bought[0] == catalogue[1].pk and catalogue[0].pk not in also_bought
    # ai's own assets, from ai/static/ai/, linked once
    assert html.count("/static/ai/ai.css") == 1 and html.count("/static/ai/beacon.js") == 1
    assert "£18.50" in html  # Oscar's price of "Coffee beans 1kg", read through the adapter


def test_oscars_basket_page_completes_the_basket_from_oscars_basket(client, trained, catalogue):
    client.post(reverse("basket:add", kwargs={"pk": catalogue[0].pk}), {"quantity": 1})
    response = client.get(reverse("basket:summary"))
    assert response.status_code == 200
    ids = recommended_ids(response.content.decode(), "basket")
    assert ids[0] == catalogue[1].pk and catalogue[0].pk not in ids  # what is in the basket is never offered


def test_the_privacy_page_renders_in_oscars_layout(client, db):
    response = client.get(reverse("ai:privacy"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div id="content_inner">' in html and "Privacy and tracking" in html
    assert "Oscar + Aisle example" in html  # the shop's name, from Oscar's base template


def test_every_ai_admin_page_opens_for_staff(client, staff, trained):
    client.force_login(staff)
    index = client.get(reverse("admin:index")).content.decode()
    links = sorted(set(re.findall(r'href="(/admin/ai/[^"]*)"', index)))
    assert "/admin/ai/trainingrun/" in links and "/admin/ai/recommendation-performance/" in links
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
    run = TrainingRun.objects.filter(kind="cooccurrence").get()
    run_page = client.get(reverse("admin:ai_trainingrun_change", args=[run.pk])).content.decode()
    assert "succeeded" in run_page.lower()
