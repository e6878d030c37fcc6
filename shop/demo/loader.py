"""Write the parsed demo data into the shop: merchant, categories, products, customers, orders.

Every phase is idempotent on a natural key (merchant slug, category path, SKU, username, order
number), so running the loader again adds only what is missing. Orders are written in batches, each
batch in one transaction with its lines and status history, so an interrupted load never leaves an
order without its lines and simply resumes on the next run.
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Sum
from django.utils.text import slugify
from tqdm import tqdm

from shop.demo.categories import all_paths, categorise
from shop.demo.source import SourceData, SourceInvoice, SourceProduct
from shop.demo.titles import clean_title
from shop.models import Category, Merchant, Order, OrderLine, OrderStatus, OrderStatusChange, Product

MERCHANT_NAME = "Aisle Gifts"
MERCHANT_SLUG = "aisle-gifts"
ORDER_PREFIX = "OR-"
CUSTOMER_PREFIX = "customer-"
CUSTOMER_EMAIL_DOMAIN = "example.com"
ACTOR = "demo loader"
BATCH = 1000
ORDER_BATCH = 500
# Stock: about four weeks of the product's average demand; nothing for products that stopped selling.
STOCK_WEEKS = 4
STOCK_MIN, STOCK_MAX = 6, 5000
DISCONTINUED_AFTER_DAYS = 90
# When the data has only the invoice time, the later steps of a delivered order are placed at these offsets.
DELIVERY_STEPS = (
    (OrderStatus.PENDING, OrderStatus.PAID, timedelta(minutes=30)),
    (OrderStatus.PAID, OrderStatus.SHIPPED, timedelta(days=1)),
    (OrderStatus.SHIPPED, OrderStatus.DELIVERED, timedelta(days=3)),
)
KEPT_STATUSES = [status for status in OrderStatus.values if status not in (OrderStatus.CANCELLED, OrderStatus.REFUNDED)]
COUNTED = re.compile(r"\b(Set|Pack|Box) of (\d+)\b")


@dataclass
class LoadReport:
    created: Counter = field(default_factory=Counter)
    existing: Counter = field(default_factory=Counter)

    def line(self, what: str) -> str:
        return f"{what}: {self.created[what]} new, {self.existing[what]} already there"


def insert_rows(model, field_names: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert many rows without model instances: COPY on PostgreSQL, one `executemany` elsewhere.

    bulk_create spends most of its time building and compiling objects; for the hundreds of thousands
    of order lines this is several times faster. Values still go through each field's database
    preparation, so dates, decimals and time zones are stored exactly as the ORM would store them.
    """
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    prepared = ([field.get_db_prep_save(value, connection) for field, value in zip(fields, row, strict=False)] for row in rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for values in prepared:
                    copy.write_row(values)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", list(prepared))


def customer_username(customer_id: str) -> str:
    return f"{CUSTOMER_PREFIX}{customer_id}"


def order_number(invoice_number: str) -> str:
    return f"{ORDER_PREFIX}{invoice_number}"


def describe(title: str, source: SourceProduct) -> str:
    """A short description of what the order history says about the product, and nothing made up."""
    sentences = []
    counted = COUNTED.search(title)
    if counted:
        sentences.append(f"Comes as a {counted.group(1).lower()} of {counted.group(2)}.")
    if source.units > 0:
        sentences.append(
            f"{source.units:,} sold in the order history this demo shop was built from, most recently on "
            f"{source.last_sold:%-d %B %Y}."
        )
    return " ".join(sentences)


def estimate_stock(product: SourceProduct, data: SourceData) -> int:
    if data.last_date is None or (data.last_date - product.last_sold).days > DISCONTINUED_AFTER_DAYS:
        return 0
    span_days = max(7, (data.last_date - data.first_date).days) if data.first_date else 7
    weekly = product.units * 7 / span_days
    return int(min(STOCK_MAX, max(STOCK_MIN, round(weekly * STOCK_WEEKS))))


def _bar(total: int, desc: str, unit: str, progress: bool) -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, disable=not progress, file=sys.stderr, mininterval=0.5)


def ensure_merchant() -> Merchant:
    merchant, _ = Merchant.objects.get_or_create(slug=MERCHANT_SLUG, defaults={"name": MERCHANT_NAME})
    return merchant


def ensure_categories(report: LoadReport) -> dict[tuple[str, ...], Category]:
    """The whole rule tree, created once (parents first)."""
    nodes: dict[tuple[str, ...], Category] = {}
    for path in all_paths():
        slug_path = "/".join(slugify(name) for name in path)
        category = Category.objects.filter(path=slug_path).first()
        if category is None:
            category = Category(parent=nodes.get(path[:-1]), name=path[-1], slug=slugify(path[-1]))
            category.save()
            report.created["categories"] += 1
        else:
            report.existing["categories"] += 1
        nodes[path] = category
    return nodes


def load_products(data: SourceData, merchant: Merchant, report: LoadReport, progress: bool) -> dict[str, Product]:
    categories = ensure_categories(report)
    existing = set(Product.objects.filter(merchant=merchant).values_list("sku", flat=True))
    new = [product for sku, product in sorted(data.products.items()) if sku not in existing]
    report.existing["products"] += len(data.products) - len(new)
    with _bar(len(new), "products", " products", progress) as bar, transaction.atomic():
        for start in range(0, len(new), BATCH):
            batch = []
            for source in new[start : start + BATCH]:
                title = clean_title(source.description)[:200] or source.sku
                path = categorise(source.description)
                batch.append(
                    Product(
                        merchant=merchant,
                        category=categories[path],
                        title=title,
                        slug=slugify(title)[:220] or source.sku.lower(),
                        description=describe(title, source),
                        sku=source.sku,
                        price=source.price,
                        currency="GBP",
                        stock=estimate_stock(source, data),
                        is_active=True,
                    )
                )
            Product.objects.bulk_create(batch, batch_size=BATCH)
            report.created["products"] += len(batch)
            bar.update(len(batch))
    return {p.sku: p for p in Product.objects.filter(merchant=merchant).only("id", "sku", "title")}


def load_customers(data: SourceData, report: LoadReport, progress: bool) -> dict[str, int]:
    """Customer id -> user id. New accounts get an unusable password (the demo customer gets one later)."""
    User = get_user_model()
    first_seen: dict[str, datetime] = {}
    for invoice in data.invoices:  # oldest first
        first_seen.setdefault(invoice.customer_id, invoice.placed_at)
    wanted = {customer_username(cid): cid for cid in data.customer_ids}
    existing = set(User.objects.filter(username__in=list(wanted)).values_list("username", flat=True))
    new = [username for username in wanted if username not in existing]
    report.existing["customers"] += len(existing)
    with _bar(len(new), "customers", " customers", progress) as bar, transaction.atomic():
        for start in range(0, len(new), BATCH):
            batch = [
                User(
                    username=username,
                    email=f"{username}@{CUSTOMER_EMAIL_DOMAIN}",
                    password=make_password(None),
                    date_joined=first_seen[wanted[username]],
                )
                for username in new[start : start + BATCH]
            ]
            User.objects.bulk_create(batch, batch_size=BATCH)
            report.created["customers"] += len(batch)
            bar.update(len(batch))
    ids: dict[str, int] = {}
    for start in range(0, len(wanted), BATCH * 5):  # chunked: SQLite caps the number of query parameters
        chunk = list(wanted)[start : start + BATCH * 5]
        ids.update(User.objects.filter(username__in=chunk).values_list("username", "id"))
    return {cid: ids[username] for username, cid in wanted.items()}


LINE_FIELDS = ("order", "product", "merchant", "sku", "title", "unit_price", "quantity", "line_total")
CHANGE_FIELDS = ("order", "from_status", "to_status", "actor", "note", "changed_at")


def _order_rows(invoice: SourceInvoice, merchant: Merchant, products: dict[str, Product], user_id: int):
    """The Order (unsaved), and its lines and status changes as rows of LINE_FIELDS / CHANGE_FIELDS minus the order."""
    lines = []
    subtotal = Decimal("0.00")
    for sku, quantity, unit_price in invoice.lines:
        product = products[sku]
        line_total = unit_price * quantity
        subtotal += line_total
        lines.append((product.id, merchant.id, sku, product.title, unit_price, quantity, line_total))
    username = customer_username(invoice.customer_id)
    order = Order(
        number=order_number(invoice.number),
        user_id=user_id,
        email=f"{username}@{CUSTOMER_EMAIL_DOMAIN}",
        status=OrderStatus.CANCELLED if invoice.cancelled else OrderStatus.DELIVERED,
        currency="GBP",
        subtotal=subtotal,
        shipping_cost=invoice.postage,
        total=subtotal + invoice.postage,
        shipping_method="standard",
        shipping_name=f"Customer {invoice.customer_id}",
        shipping_country=invoice.country,
        placed_at=invoice.placed_at,
    )
    if invoice.cancelled:
        note = f"cancellation invoice {invoice.number} in the source data"
        changes = [
            ("", OrderStatus.PENDING, ACTOR, "", invoice.placed_at),
            (OrderStatus.PENDING, OrderStatus.CANCELLED, ACTOR, note, invoice.placed_at),
        ]
    else:
        changes = [("", OrderStatus.PENDING, ACTOR, f"invoice {invoice.number}", invoice.placed_at)]
        at = invoice.placed_at
        for from_status, to_status, delay in DELIVERY_STEPS:
            at = at + delay
            changes.append((from_status, to_status, ACTOR, "", at))
    return order, lines, changes


def load_orders(
    data: SourceData, merchant: Merchant, products: dict[str, Product], users: dict[str, int], report: LoadReport, progress: bool
) -> None:
    existing = set(Order.objects.filter(number__startswith=ORDER_PREFIX).values_list("number", flat=True))
    new = [invoice for invoice in data.invoices if order_number(invoice.number) not in existing]
    report.existing["orders"] += len(data.invoices) - len(new)
    with _bar(len(new), "orders", " orders", progress) as bar:
        for start in range(0, len(new), ORDER_BATCH):
            orders, lines_per_order, changes_per_order = [], [], []
            for invoice in new[start : start + ORDER_BATCH]:
                order, lines, changes = _order_rows(invoice, merchant, products, users[invoice.customer_id])
                orders.append(order)
                lines_per_order.append(lines)
                changes_per_order.append(changes)
            with transaction.atomic():
                Order.objects.bulk_create(orders)  # sets the primary keys (PostgreSQL, SQLite >= 3.35)
                all_lines = [(order.pk, *line) for order, lines in zip(orders, lines_per_order, strict=False) for line in lines]
                all_changes = [(order.pk, *change) for order, changes in zip(orders, changes_per_order, strict=False) for change in changes]
                insert_rows(OrderLine, LINE_FIELDS, all_lines)
                insert_rows(OrderStatusChange, CHANGE_FIELDS, all_changes)
            report.created["orders"] += len(orders)
            report.created["cancelled orders"] += sum(order.status == OrderStatus.CANCELLED for order in orders)
            report.created["order lines"] += len(all_lines)
            bar.update(len(orders))


def analyze_tables() -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load.

    Without them the planner still believes the tables are nearly empty until autovacuum gets round
    to them, and picks nested loops that turn a one-second aggregate into minutes.
    """
    if connection.vendor != "postgresql":
        return
    models = (Product, Order, OrderLine, OrderStatusChange, get_user_model())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models))


def update_units_sold(merchant: Merchant) -> int:
    """units_sold = units in the merchant's kept order lines, net of the source data's credit notes.

    The data's cancellation invoices ("C" numbers) return goods from earlier invoices that cannot be
    matched to them, so their units are taken off the total. Returns the number of products changed.
    """
    lines = OrderLine.objects.filter(merchant=merchant, product__isnull=False)
    kept = dict(
        lines.filter(order__status__in=KEPT_STATUSES)  # a join; exclude() would be a slow NOT IN subquery
        .values("product_id")
        .annotate(units=Sum("quantity"))
        .values_list("product_id", "units")
    )
    returned = dict(
        lines.filter(order__status=OrderStatus.CANCELLED, order__number__startswith=order_number("C"))
        .values("product_id")
        .annotate(units=Sum("quantity"))
        .values_list("product_id", "units")
    )
    totals = {product_id: max(0, units - returned.get(product_id, 0)) for product_id, units in kept.items()}
    changed = []
    for product in Product.objects.filter(merchant=merchant).only("id", "units_sold"):
        units = totals.get(product.id, 0) or 0
        if product.units_sold != units:
            product.units_sold = units
            changed.append(product)
    Product.objects.bulk_update(changed, ["units_sold"], batch_size=BATCH)
    return len(changed)


def load(data: SourceData, *, progress: bool = True) -> tuple[Merchant, LoadReport]:
    report = LoadReport()
    merchant = ensure_merchant()
    products = load_products(data, merchant, report, progress)
    users = load_customers(data, report, progress)
    load_orders(data, merchant, products, users, report, progress)
    analyze_tables()
    report.created["products with new sales totals"] = update_units_sold(merchant)
    return merchant, report
