from __future__ import annotations

import pytest

from ai import registry
from ai.training import start_run
from shop.models import InventoryDefaults, ProductInventory, Supplier
from tests.factories import MerchantFactory, ProductFactory
from tests.forecast.shop_history import weekly_history

OPTIONS = {"models": "seasonal_naive,window_average,croston_sba", "horizon_days": 14, "n_jobs": 1}


@pytest.fixture
def forecast_shop(db, settings, tmp_path, django_capture_on_commit_callbacks):
    """A merchant whose two products sell a known weekly pattern, with a live demand version.

    products[0] sells 25 units a week (5,3,3,4,8,-,2); products[1] 3 units every other open day."""
    settings.MEDIA_ROOT = tmp_path / "media"
    registry.clear_cache()
    merchant = MerchantFactory()
    supplier = Supplier.objects.create(merchant=merchant, name="Acme Wholesale", email="orders@acme.example")
    products = [ProductFactory(merchant=merchant, stock=10), ProductFactory(merchant=merchant, stock=500)]
    for product in products:
        ProductInventory.objects.create(product=product, supplier=supplier, pack_size=6)
    InventoryDefaults.objects.create(merchant=merchant, lead_time_days=7, overstock_days=60)
    weekly_history(products, weeks=10)
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run("demand", OPTIONS, via="test")
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    yield merchant, supplier, products
    registry.clear_cache()
