"""Each page shows its recommendation placement through the plug-in's template tag."""
from __future__ import annotations

import re

from django.urls import reverse
from django.utils import timezone

from ai.models import Event
from tests.factories import ProductFactory

from .test_checkout_views import ADDRESS


def placements(response) -> list[str]:
    return re.findall(r'data-rec-list data-placement="([a-z_]+)"', response.content.decode())


def test_every_page_shows_its_placements(client, merchant, tree):
    # more products than the home page's bestsellers, which its recommendations leave out
    products = [ProductFactory(merchant=merchant, category=tree["candles"], stock=20) for _ in range(20)]
    now = timezone.now()
    # Shoppers who bought products 0 and 1 together, and a little of everything else.
    rows = [Event(event_type="purchase", visitor_id=f"{v:032x}", product_id=products[i].pk, created_at=now)
            for v in range(6) for i in (0, 1)]
    rows += [Event(event_type="purchase", visitor_id=f"{100 + i:032x}", product_id=p.pk, created_at=now)
             for i, p in enumerate(products)]
    Event.objects.bulk_create(rows)

    assert placements(client.get(reverse("shop:home"))) == ["home"]
    product_page = client.get(products[0].get_absolute_url())
    shown = placements(product_page)
    assert set(shown) <= {"product_also_bought", "product_similar"} and shown
    assert f'data-product-id="{products[0].pk}"' not in product_page.content.decode()  # never the product itself

    client.post(reverse("shop:basket_add"), {"product_id": products[0].pk, "quantity": 1})
    assert placements(client.get(reverse("shop:basket"))) == ["basket"]

    response = client.post(reverse("shop:checkout"), ADDRESS)
    assert placements(client.get(response["Location"])) == ["confirmation"]
