"""The daily low-stock e-mail: who gets it, its exact content, once a day, the command and the beat entry."""
from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from shop.models import InventoryDefaults, LowStockDigestSent
from shop.services import purchasing, replenishment
from shop.services.low_stock_digest import send_digests
from tests.factories import StaffFactory, UserFactory
from tests.forecast.conftest import WEEKLY


def stockout(origin: date, stock: float) -> date:
    sold, day = 0.0, origin
    while True:
        if day.weekday() != 5:  # closed on Saturdays
            sold += WEEKLY[day.weekday()]
            if sold >= stock:
                return day
        day += timedelta(days=1)


@pytest.fixture
def opted_in(forecast_shop):
    merchant, supplier, products = forecast_shop
    defaults = InventoryDefaults.objects.get(merchant=merchant)
    buyer = StaffFactory(username="buyer", email="buyer@aisle.example")
    viewer = UserFactory(username="viewer", email="viewer@aisle.example", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_product"))
    no_permission = UserFactory(username="nosy", email="nosy@aisle.example", is_staff=True)
    customer = UserFactory(username="customer", email="customer@example.com")
    no_address = StaffFactory(username="nomail", email="")
    StaffFactory(username="elsewhere", email="elsewhere@aisle.example")  # staff who did not opt in
    defaults.low_stock_digest.add(buyer, viewer, no_permission, customer, no_address)
    return forecast_shop


@pytest.mark.slow
def test_the_digest_lists_the_products_to_reorder(opted_in):
    merchant, supplier, products = opted_in
    product = products[0]
    origin = replenishment.live_demand().forecasts.origin
    today = date(2026, 12, 2)
    run, _ = send_digests(today)
    assert sorted(run.sent) == ["buyer@aisle.example", "viewer@aisle.example"]
    assert sorted(message.to[0] for message in mail.outbox) == ["buyer@aisle.example", "viewer@aisle.example"]
    message = mail.outbox[0]
    assert message.subject == "Low stock: 1 product to reorder (2026-12-02)"
    assert message.from_email == "shop@aisle.example"
    assert message.body == (
        "1 product is at or below the reorder point on 2026-12-02.\n"
        "\n"
        f"{merchant.name}\n"
        f"- {product.sku} {product.title}\n"
        "  stock 10, on order 0, reorder point 25, order up to 50\n"
        f"  order 42 from Acme Wholesale; runs out {stockout(origin, 10).isoformat()}, lead time 7 days\n"
        "\n"
        "The reorder list, to create the purchase orders: /admin/shop/purchaseorder/reorder/\n"
    )
    assert list(LowStockDigestSent.objects.order_by("user__username").values_list("user__username", "day", "products")) == [
        ("buyer", today, 1), ("viewer", today, 1)]

    # Once a day: a second run that day (a doubled beat, a manual run) sends nothing.
    again, _ = send_digests(today)
    assert again.sent == [] and sorted(again.already_sent) == ["buyer@aisle.example", "viewer@aisle.example"]
    assert len(mail.outbox) == 2

    # The next day, with the suggested order placed, nothing is due: no e-mail at all.
    purchasing.create_purchase_order(supplier, {product.pk: 42})
    tomorrow, _ = send_digests(today + timedelta(days=1))
    assert tomorrow.sent == [] and sorted(tomorrow.nothing_due) == ["buyer@aisle.example", "viewer@aisle.example"]
    assert len(mail.outbox) == 2 and LowStockDigestSent.objects.count() == 2


@pytest.mark.slow
def test_the_command_and_the_task(opted_in, capsys):
    from shop.tasks import send_low_stock_digest

    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    call_command("send_low_stock_digest", "--date", yesterday, "--dry-run")
    out = capsys.readouterr().out
    assert f"To: buyer@aisle.example\nSubject: Low stock: 1 product to reorder ({yesterday})" in out
    assert out.rstrip().endswith(f"Dry run: 2 digest(s) for {yesterday} not sent.")
    assert mail.outbox == [] and not LowStockDigestSent.objects.exists()

    call_command("send_low_stock_digest", "--date", yesterday)
    assert capsys.readouterr().out.strip() == (
        f"Low-stock digests for {yesterday}: 2 sent, 0 already sent for that day, 0 with nothing to reorder.")
    assert send_low_stock_digest.apply().get() == 2  # today's (the task's day) not sent yet
    assert send_low_stock_digest.apply().get() == 0
    assert len(mail.outbox) == 4


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday"])
def test_the_command_refuses_bad_dates(db, value):
    with pytest.raises(CommandError, match=f"--date must look like 2026-12-02, not '{value}'"):
        call_command("send_low_stock_digest", "--date", value)
    assert mail.outbox == []


def test_without_a_live_forecast_nobody_gets_a_digest(db):
    from tests.factories import MerchantFactory

    defaults = InventoryDefaults.objects.create(merchant=MerchantFactory())
    defaults.low_stock_digest.add(StaffFactory(email="buyer@aisle.example"))
    run, digests = send_digests(date(2026, 12, 2))
    assert (run.sent, run.nothing_due, digests) == ([], ["buyer@aisle.example"], [])
    assert mail.outbox == []


def test_the_digest_is_scheduled_in_beat(settings):
    from celery.schedules import crontab

    from config.celery import setup_periodic_tasks

    settings.SHOP_LOW_STOCK_DIGEST_CRON = "15 7 * * 1-5"
    sender = SimpleNamespace(conf=SimpleNamespace(beat_schedule={}))
    setup_periodic_tasks(sender)
    entry = sender.conf.beat_schedule["shop: low-stock digest"]
    assert entry == {"task": "shop.tasks.send_low_stock_digest",
                     "schedule": crontab(minute="15", hour="7", day_of_week="1-5")}


def test_the_admin_lists_the_digests_sent_read_only(client, db):
    buyer = StaffFactory(username="buyer", email="buyer@aisle.example")
    sent = LowStockDigestSent.objects.create(user=buyer, day=date(2026, 12, 2), products=3)
    client.force_login(buyer)
    page = client.get("/admin/shop/lowstockdigestsent/")
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [sent] and "buyer" in page.content.decode()
    assert client.get("/admin/shop/lowstockdigestsent/add/").status_code == 403
