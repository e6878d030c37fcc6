"""Reading the Online Retail order lines into products, customers and invoices (no database here).

The file has one row per invoice line: InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,
CustomerID,Country. What is kept:

- products: StockCodes of five digits with an optional letter suffix (85123A), upper-cased. Everything
  else is a charge or a bookkeeping line (POST, DOT, C2 postage; M manual; D discount; S samples;
  B bad debt; BANK CHARGES, AMAZONFEE, CRUK, PADS, gift vouchers gift_0001_*, DCGS dotcom sets).
  Lines with a price under one penny, and stock-keeping notes written as descriptions ("damaged",
  "check", "adjustment", ...), are left out too.
- invoices with a CustomerID: one order each. "C" invoices are cancellations (their quantities are
  negative in the file); other letter prefixes (A = bad-debt adjustment) are not orders.
- invoices without a CustomerID (guests) are not loaded as orders: they cannot be tied to a shopper,
  and the biggest of them are daily aggregates of hundreds of web-shop lines, which would read as
  impossible "baskets" to the recommenders. Their sales still count towards a product's demand when
  estimating its stock.
"""
from __future__ import annotations

import csv
import gzip
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

SHOP_TZ = ZoneInfo("Europe/London")
COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")
PRODUCT_CODE = re.compile(r"^\d{5}[A-Z]{0,3}$")
POSTAGE_CODES = frozenset({"POST", "DOT", "C2"})
# Names of things sold under a product-like code that are not goods.
NOT_GOODS = re.compile(r"next day carriage|gift voucher|high resolution image", re.IGNORECASE)
PENNY = Decimal("0.01")


class SourceError(ValueError):
    """The data file is missing, unreadable or not in the Online Retail shape."""


@dataclass
class SourceProduct:
    sku: str
    description: str
    price: Decimal
    units: int  # net units sold over the lines read (guests included): the demand behind the stock estimate
    last_sold: datetime


@dataclass
class SourceInvoice:
    number: str
    customer_id: str
    country: str
    placed_at: datetime
    cancelled: bool
    lines: list[tuple[str, int, Decimal]] = field(default_factory=list)  # (sku, quantity, unit price)
    postage: Decimal = Decimal("0.00")


@dataclass
class SourceData:
    products: dict[str, SourceProduct]
    invoices: list[SourceInvoice]  # oldest first
    first_date: datetime | None
    last_date: datetime | None
    skipped: Counter = field(default_factory=Counter)

    @property
    def customer_ids(self) -> list[str]:
        return sorted({invoice.customer_id for invoice in self.invoices}, key=_customer_sort_key)


def _customer_sort_key(customer_id: str) -> tuple[int, str]:
    return (int(customer_id), customer_id) if customer_id.isdigit() else (10**12, customer_id)


def read_rows(path: Path) -> Iterator[dict[str, str]]:
    """The rows of a (gzipped) Online Retail CSV file, with a clear error if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"No data file at {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
            if missing:
                raise SourceError(f"{path} is not an Online Retail file: missing column(s) {', '.join(missing)}")
            yield from reader
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"Cannot read {path}: {exc}") from exc


def rows_from_text(text: str) -> Iterator[dict[str, str]]:
    """Rows from CSV text (the synthetic shop and tests use the same path as the real file)."""
    yield from csv.DictReader(io.StringIO(text))


def is_adjustment(description: str) -> bool:
    """A stock-keeping note ("damaged", "check", "?") or a service, rather than a product name.

    Product names in the file are upper case; the notes staff typed are lower case.
    """
    text = description.strip()
    return not any(char.isupper() for char in text) or bool(NOT_GOODS.search(text))


def _parse_customer(raw: str) -> str:
    raw = raw.strip()
    if raw.endswith(".0"):
        raw = raw[:-2]
    return raw


def _parse_date(raw: str) -> datetime:
    return datetime.fromisoformat(raw.strip()).replace(tzinfo=SHOP_TZ)


def _skip_reason(number: str, code: str, description: str, quantity: int, price: Decimal) -> str | None:
    """Why a line is not an order line of goods or postage (None when it is one)."""
    cancelled = number.startswith("C")
    is_postage = code in POSTAGE_CODES
    if not number or not (number[0].isdigit() or cancelled):
        return "not an order (adjustment invoice)"
    if not is_postage and not PRODUCT_CODE.match(code):
        return "not a product (fee, postage, manual line)"
    if price <= 0:
        return "price not positive"
    if not is_postage and is_adjustment(description):
        return "stock adjustment note"
    if quantity == 0 or (quantity < 0) != cancelled:
        return "quantity does not match the invoice"
    return None


def _add_line(invoice: SourceInvoice, code: str, quantity: int, price: Decimal, placed_at: datetime) -> None:
    """A goods line, or postage charged on the invoice (quantities of cancellations are stored positive)."""
    invoice.placed_at = min(invoice.placed_at, placed_at)
    if code in POSTAGE_CODES:
        invoice.postage += abs(quantity) * price
    else:
        invoice.lines.append((code, abs(quantity), price))


def _catalogue(
    descriptions: dict[str, Counter], prices: dict[str, Counter], units: Counter, last_sold: dict[str, datetime]
) -> dict[str, SourceProduct]:
    """One product per code sold at least once: its most frequent description and price."""
    products = {}
    for code, counter in descriptions.items():
        if code not in prices:
            continue  # only ever seen in cancellations: no selling price to show, so not in the catalogue
        price = max(prices[code].items(), key=lambda item: (item[1], item[0]))[0]
        products[code] = SourceProduct(
            sku=code,
            description=counter.most_common(1)[0][0],
            price=price,
            units=max(0, units[code]),
            last_sold=last_sold[code],
        )
    return products


def _with_product_lines(
    invoices: Iterable[SourceInvoice], products: dict[str, SourceProduct], skipped: Counter
) -> list[SourceInvoice]:
    """The invoices left with a line of a catalogue product (lines of other codes dropped)."""
    kept = []
    for invoice in invoices:
        invoice.lines = [line for line in invoice.lines if line[0] in products]
        if invoice.lines:
            kept.append(invoice)
        else:
            skipped["invoice without product lines"] += 1
    return kept


def parse(rows: Iterable[dict[str, str]], *, limit: int | None = None) -> SourceData:
    """Group the rows into products and invoices. `limit` keeps the first N invoices of the file."""
    descriptions: dict[str, Counter] = defaultdict(Counter)
    prices: dict[str, Counter] = defaultdict(Counter)
    units: Counter = Counter()
    last_sold: dict[str, datetime] = {}
    invoices: dict[str, SourceInvoice] = {}
    seen_invoices: set[str] = set()
    skipped: Counter = Counter()
    first_date = last_date = None

    for line_number, row in enumerate(rows, start=2):
        number = (row.get("InvoiceNo") or "").strip()
        if number not in seen_invoices:
            if limit is not None and len(seen_invoices) >= limit:
                break
            seen_invoices.add(number)
        try:
            code = (row["StockCode"] or "").strip().upper()
            quantity = int(row["Quantity"])
            price = Decimal(row["UnitPrice"]).quantize(PENNY, rounding=ROUND_HALF_UP)
            placed_at = _parse_date(row["InvoiceDate"])
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise SourceError(f"line {line_number}: cannot read {row!r} ({exc})") from exc
        description = (row.get("Description") or "").strip()
        customer_id = _parse_customer(row.get("CustomerID") or "")
        first_date = placed_at if first_date is None or placed_at < first_date else first_date
        last_date = placed_at if last_date is None or placed_at > last_date else last_date

        cancelled = number.startswith("C")
        is_postage = code in POSTAGE_CODES
        reason = _skip_reason(number, code, description, quantity, price)
        if reason:
            skipped[reason] += 1
            continue

        if not is_postage:
            descriptions[code][description] += 1
            units[code] += quantity  # net of cancellations (negative quantities)
            if not cancelled:
                prices[code][price] += 1
                if code not in last_sold or placed_at > last_sold[code]:
                    last_sold[code] = placed_at
        if not customer_id:
            skipped["guest line (no CustomerID)"] += 1
            continue
        invoice = invoices.get(number)
        if invoice is None:
            invoice = invoices[number] = SourceInvoice(
                number=number, customer_id=customer_id, country=(row.get("Country") or "").strip(),
                placed_at=placed_at, cancelled=cancelled,
            )
        _add_line(invoice, code, quantity, price, placed_at)

    products = _catalogue(descriptions, prices, units, last_sold)
    kept = _with_product_lines(invoices.values(), products, skipped)
    kept.sort(key=lambda invoice: (invoice.placed_at, invoice.number))
    return SourceData(products=products, invoices=kept, first_date=first_date, last_date=last_date, skipped=skipped)
