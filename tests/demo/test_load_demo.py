"""load_demo on a tiny hand-made extract of the Online Retail file, and on the synthetic shop."""
from __future__ import annotations

import gzip
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from itertools import combinations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from ai.models import Event
from shop.demo import synthetic
from shop.demo.source import parse
from shop.demo.titles import clean_title
from shop.models import ApiKey, Category, Order, OrderLine, OrderStatus, Product
from shop.services.api_keys import hash_key

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
LINES = [
    # 536365: a customer's order with a postage line
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",
    "536365,POST,POSTAGE,1,2010-12-01 08:26:00,18.00,17850.0,United Kingdom",
    # 536366: same customer, the heart at another price
    "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom",
    "536366,85123A,WHITE HANGING HEART T-LIGHT HOLDER,2,2010-12-01 08:28:00,2.95,17850.0,United Kingdom",
    # 536367: another customer, in British summer time, with a discount line (not a product)
    "536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,2011-06-01 10:34:00,1.69,13047.0,France",
    "536367,22745,POPPY'S PLAYHOUSE BEDROOM ,6,2011-06-01 10:34:00,2.1,13047.0,France",
    "536367,D,Discount,-1,2011-06-01 10:34:00,10.00,13047.0,France",
    # 536368: a guest (no CustomerID): its products count, no order
    "536368,85123A,WHITE HANGING HEART T-LIGHT HOLDER,4,2011-06-02 11:00:00,2.55,,United Kingdom",
    "536368,21730,GLASS STAR FROSTED T-LIGHT HOLDER,4,2011-06-02 11:00:00,4.25,,United Kingdom",
    # C536370: a cancellation
    "C536370,71053,WHITE METAL LANTERN,-2,2011-06-05 12:00:00,3.39,17850.0,United Kingdom",
    # 536371: only a negative price; 536372: a stock note; 536373: only a bank charge -> no orders, no products
    "536371,22752,SET 7 BABUSHKA NESTING BOXES,2,2011-06-06 09:00:00,-7.65,17850.0,United Kingdom",
    "536372,85123A,damaged,-5,2011-06-07 09:00:00,0,,United Kingdom",
    "536373,BANK CHARGES,Bank Charges,1,2011-06-08 09:00:00,15,13047.0,France",
]


def write_extract(path, lines=LINES) -> str:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join([HEADER, *lines]) + "\n")
    return str(path)


@pytest.fixture
def demo_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DEMO_API_KEY_FILE = tmp_path / "var" / "demo_api_key.txt"
    return settings


@pytest.fixture
def extract(tmp_path) -> str:
    return write_extract(tmp_path / "lines.csv.gz")


def run(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "products": Product.objects.count(),
        "categories": Category.objects.count(),
        "orders": Order.objects.count(),
        "cancelled": Order.objects.filter(status=OrderStatus.CANCELLED).count(),
        "lines": OrderLine.objects.count(),
        "users": get_user_model().objects.count(),
        "keys": ApiKey.objects.count(),
        "purchase events": Event.objects.filter(event_type="purchase").count(),
    }


@pytest.mark.django_db
def test_loads_the_extract_with_exact_counts(demo_settings, extract):
    run("--data", extract)

    assert sorted(Product.objects.values_list("sku", flat=True)) == ["21730", "22633", "22745", "71053", "84879", "85123A"]
    assert sorted(Order.objects.values_list("number", flat=True)) == ["OR-536365", "OR-536366", "OR-536367", "OR-C536370"]
    assert counts() | {"categories": 0} == {
        "products": 6, "categories": 0, "orders": 4, "cancelled": 1, "lines": 7,
        "users": 3,  # two customers and the staff account; the guest is not a user
        "keys": 1, "purchase events": 6,  # the delivered orders' lines, not the cancellation
    }
    assert set(get_user_model().objects.values_list("username", flat=True)) == {"staff", "customer-17850", "customer-13047"}


@pytest.mark.django_db
def test_products_have_clean_titles_prices_categories_and_sales(demo_settings, extract):
    run("--data", extract)
    products = {p.sku: p for p in Product.objects.select_related("category", "merchant")}

    heart = products["85123A"]
    assert heart.title == "White Hanging Heart T-Light Holder"
    assert heart.price == Decimal("2.55")  # the most common price (2.55 twice, 2.95 once)
    assert heart.category.path == "home/candles-lighting"
    # what the order history says (guests' lines included), and no filler
    assert heart.description == "12 sold in the order history this demo shop was built from, most recently on 2 June 2011."
    assert "from our" not in heart.description
    assert heart.units_sold == 8  # 6 + 2 in customers' orders; the guest's 4 are not orders
    assert heart.merchant.slug == "aisle-gifts" and heart.merchant.name == "Aisle Gifts"
    assert products["22745"].title == "Poppy's Playhouse Bedroom"
    assert products["71053"].units_sold == 4  # 6 sold, 2 returned by the cancellation
    assert products["21730"].units_sold == 0  # only a guest bought it
    # Stock: about four weeks of demand (at least 6); none for what has not sold in the data's last 90 days.
    assert heart.stock == 6
    assert products["22633"].stock == 0  # last sold in December 2010, the data runs to June 2011
    assert all(p.is_active for p in products.values())


@pytest.mark.django_db
def test_orders_keep_real_dates_prices_and_a_status_history(demo_settings, extract):
    run("--data", extract)

    summer = Order.objects.get(number="OR-536367")
    assert summer.placed_at == datetime(2011, 6, 1, 9, 34, tzinfo=UTC)  # 10:34 in London (BST)
    assert summer.shipping_country == "France" and summer.status == OrderStatus.DELIVERED
    assert [s.to_status for s in summer.status_changes.all()] == ["pending", "paid", "shipped", "delivered"]
    assert summer.status_changes.first().changed_at == summer.placed_at

    first = Order.objects.get(number="OR-536365")
    assert (first.subtotal, first.shipping_cost, first.total) == (Decimal("35.64"), Decimal("18.00"), Decimal("53.64"))
    assert first.user.username == "customer-17850"
    assert sorted((line.sku, line.quantity, line.unit_price) for line in first.lines.all()) == [
        ("71053", 6, Decimal("3.39")), ("85123A", 6, Decimal("2.55"))
    ]
    assert OrderLine.objects.get(order__number="OR-536366", sku="85123A").unit_price == Decimal("2.95")

    cancelled = Order.objects.get(number="OR-C536370")
    assert cancelled.status == OrderStatus.CANCELLED
    assert [(line.sku, line.quantity) for line in cancelled.lines.all()] == [("71053", 2)]
    assert [s.to_status for s in cancelled.status_changes.all()] == ["pending", "cancelled"]

    event = Event.objects.get(event_type="purchase", product_id=Product.objects.get(sku="84879").pk)
    assert event.created_at == summer.placed_at and event.user_id == summer.user_id


@pytest.mark.django_db
def test_a_second_run_adds_nothing(demo_settings, extract):
    run("--data", extract)
    before = counts()
    key_before = demo_settings.DEMO_API_KEY_FILE.read_text()

    output = run("--data", extract)

    assert counts() == before
    assert demo_settings.DEMO_API_KEY_FILE.read_text() == key_before
    assert "orders: 0 new, 4 already there" in output


@pytest.mark.django_db
def test_limit_takes_the_first_invoices_and_a_full_run_completes_it(demo_settings, extract):
    run("--data", extract, "--limit", "2")
    assert sorted(Order.objects.values_list("number", flat=True)) == ["OR-536365", "OR-536366"]
    assert Product.objects.count() == 3

    run("--data", extract)
    assert Order.objects.count() == 4 and Product.objects.count() == 6
    assert Product.objects.get(sku="85123A").units_sold == 8


@pytest.mark.django_db
def test_demo_accounts_and_api_key(demo_settings, extract, client):
    run("--data", extract)
    User = get_user_model()

    staff = User.objects.get(username="staff")
    assert staff.is_staff and staff.is_superuser and staff.check_password("aisle-staff")
    demo = User.objects.get(username="customer-17850")  # the customer with the most delivered orders
    assert demo.check_password("aisle-demo")
    assert not User.objects.get(username="customer-13047").has_usable_password()

    raw_key = demo_settings.DEMO_API_KEY_FILE.read_text().strip()
    key = ApiKey.objects.get(name="demo")
    assert key.hashed_key == hash_key(raw_key) and key.scope == "ai" and key.merchant.slug == "aisle-gifts"

    out = StringIO()
    call_command("demo_credentials", stdout=out)
    printed = out.getvalue()
    assert "http://127.0.0.1:8000" in printed
    assert "username staff  password aisle-staff" in printed
    assert "username customer-17850  password aisle-demo" in printed and "3 orders" in printed
    assert f"Authorization: Bearer {raw_key}" in printed

    out = StringIO()
    call_command("demo_credentials", "--host", "0.0.0.0", "--port", "8001", stdout=out)
    printed = out.getvalue()
    assert "8000" not in printed
    assert "Aisle demo shop: http://127.0.0.1:8001\n" in printed
    assert f"{raw_key}\" http://127.0.0.1:8001/api/v1/products/" in printed


@pytest.mark.django_db
def test_a_lost_key_file_gives_a_new_key_and_revokes_the_old(demo_settings, extract):
    run("--data", extract)
    demo_settings.DEMO_API_KEY_FILE.unlink()

    run("--data", extract)

    keys = ApiKey.objects.filter(name="demo")
    assert keys.count() == 2 and keys.filter(revoked_at__isnull=True).count() == 1
    assert keys.get(revoked_at__isnull=True).hashed_key == hash_key(demo_settings.DEMO_API_KEY_FILE.read_text().strip())


@pytest.mark.django_db
def test_demo_credentials_before_loading(demo_settings):
    out = StringIO()
    call_command("demo_credentials", stdout=out)
    assert "run `.venv/bin/python manage.py load_demo` first" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "/nonexistent/lines.csv.gz"], "No data file at /nonexistent/lines.csv.gz"),
        (["--limit", "0"], "must be a whole number of at least 1"),
        (["--limit", "lots"], "must be a whole number of at least 1"),
        (["--synthetic", "--data", "x.csv"], "either --synthetic or --data"),
    ],
)
def test_bad_arguments_are_clear_errors(demo_settings, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert Product.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content, message",
    [
        ("a,b,c\n1,2,3\n", "missing column"),
        (HEADER + "\n536365,85123A,HEART,many,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n", "line 2"),
        (HEADER + "\n536365,POST,POSTAGE,1,2010-12-01 08:26:00,18,17850.0,United Kingdom\n", "no customer orders"),
    ],
)
def test_bad_files_are_clear_errors_and_store_nothing(demo_settings, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        run("--data", str(path))
    assert (Product.objects.count(), Order.objects.count()) == (0, 0)


def test_synthetic_rows_are_deterministic():
    first, second = parse(synthetic.rows()), parse(synthetic.rows())
    titles = sorted(clean_title(p.description) for p in first.products.values())
    assert titles == sorted(clean_title(p.description) for p in second.products.values())
    assert [(i.number, i.customer_id, i.placed_at, i.lines) for i in first.invoices] == [
        (i.number, i.customer_id, i.placed_at, i.lines) for i in second.invoices
    ]
    assert len(titles) == 60 and "Red Glass T-Light Holder" in titles
    assert 280 <= len(first.invoices) <= 340 and 30 <= len(first.customer_ids) <= 40


@pytest.mark.django_db
def test_synthetic_shop_loads_the_same_every_time(demo_settings):
    source = parse(synthetic.rows())
    run("--synthetic")
    loaded = counts()

    assert loaded["products"] == 60
    assert loaded["orders"] == len(source.invoices)
    assert loaded["cancelled"] == sum(i.cancelled for i in source.invoices) > 0
    assert loaded["users"] == len(source.customer_ids) + 1
    assert sorted(Product.objects.values_list("title", flat=True)) == sorted(
        clean_title(p.description) for p in source.products.values()
    )
    assert Category.objects.filter(products__isnull=False).distinct().count() >= 5
    assert get_user_model().objects.exclude(password__startswith="!").count() == 2  # staff and the demo customer

    run("--synthetic")
    assert counts() == loaded


def test_synthetic_baskets_have_co_purchase_structure():
    """An item and its partner (the next item of the same theme and colour) are bought together far
    more often than two items of different themes: something for the recommenders to learn."""
    source = parse(synthetic.rows())
    theme = {code: item_theme for code, _, _, item_theme in synthetic.catalogue()}
    partners = cross_theme = 0
    for invoice in source.invoices:
        if invoice.cancelled:
            continue
        for a, b in combinations(sorted({sku for sku, _, _ in invoice.lines}), 2):
            first, second = int(a) - synthetic.FIRST_CODE, int(b) - synthetic.FIRST_CODE
            if second - first == 1 and first // 5 == second // 5:
                partners += 1
            elif theme[a] != theme[b]:
                cross_theme += 1
    partner_pairs = len(synthetic.THEMES) * len(synthetic.COLOURS) * 4  # 48 adjacent pairs
    cross_theme_pairs = 60 * 59 // 2 - len(synthetic.THEMES) * (10 * 9 // 2)  # 1,500
    assert partners / partner_pairs > 10 * (cross_theme / cross_theme_pairs)


@pytest.mark.django_db
def test_without_the_data_file_it_builds_the_synthetic_shop(demo_settings, monkeypatch, tmp_path):
    from shop.management.commands import load_demo

    monkeypatch.setattr(load_demo, "default_data_path", lambda: tmp_path / "absent.csv.gz")
    output = run()

    assert "building the synthetic demo shop instead" in output
    assert Product.objects.count() == 60 and Product.objects.filter(sku__startswith="990").count() == 60
