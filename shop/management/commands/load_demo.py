"""Build the demo shop from the Online Retail data (or a synthetic shop), idempotently."""
from __future__ import annotations

import sys
import time
from argparse import ArgumentTypeError
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from shop.demo import accounts
from shop.demo import synthetic as synthetic_shop
from shop.demo.loader import load
from shop.demo.source import SourceError, parse, read_rows


def default_data_path() -> Path:
    return Path(settings.BASE_DIR).parent / "shared" / "data" / "online-retail" / "lines.csv.gz"


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ArgumentTypeError(f"must be a whole number of at least 1, not {value!r}")
    return number


class Command(BaseCommand):
    help = (
        "Load the demo shop: the real Online Retail products, customers and orders when the data file is there, "
        "else a small deterministic synthetic shop. Running it again adds nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=positive_int, help="load only the first N invoices of the file")
        parser.add_argument("--data", type=Path, help=f"the order-lines CSV (.csv or .csv.gz); default {default_data_path()}")
        parser.add_argument("--synthetic", action="store_true", help="build the small synthetic shop instead")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args, limit: int | None, data: Path | None, synthetic: bool, no_progress: bool, **options) -> None:
        progress = not no_progress and options["verbosity"] > 0
        started, cpu_started = time.monotonic(), time.process_time()
        if synthetic and data is not None:
            raise CommandError("Choose either --synthetic or --data, not both.")
        path = data or default_data_path()
        if not synthetic and not path.is_file():
            if data is not None:
                raise CommandError(f"No data file at {path}.")
            self.stdout.write(f"No data file at {path}: building the synthetic demo shop instead.")
            synthetic = True

        if synthetic:
            rows = synthetic_shop.rows()
            source_name = "synthetic shop"
        else:
            rows = tqdm(read_rows(path), desc="reading", unit=" lines", disable=not progress, file=sys.stderr, mininterval=0.5)
            source_name = str(path)
        try:
            source = parse(rows, limit=limit)
        except SourceError as exc:
            raise CommandError(str(exc)) from exc
        if not source.invoices:
            raise CommandError(f"{source_name} has no customer orders to load.")
        parsed = time.monotonic()

        merchant, report = load(source, progress=progress)
        staff = accounts.ensure_staff(merchant)
        customer = accounts.ensure_demo_customer()
        key = accounts.ensure_demo_api_key(merchant)
        loaded = time.monotonic()

        self.stdout.write(f"Loaded from {source_name}{f' (first {limit} invoices)' if limit else ''}:")
        for what in ("categories", "products", "customers", "orders"):
            self.stdout.write(f"  {report.line(what)}")
        self.stdout.write(
            f"  {report.created['cancelled orders']} of the new orders are cancellations; "
            f"{report.created['order lines']} new order lines"
        )
        skipped = ", ".join(f"{count} {why}" for why, count in source.skipped.most_common())
        if skipped:
            self.stdout.write(f"  lines left out: {skipped}")
        self.stdout.write(f"  staff account: {staff.username}; demo customer: {customer.username if customer else '-'}")
        self.stdout.write(f"  demo API key: {'created' if key.created else 'kept'} (see `.venv/bin/python manage.py demo_credentials`)")

        call_command(
            "ai_backfill_events", no_progress=not progress, verbosity=options["verbosity"], stdout=self.stdout, stderr=self.stderr
        )
        finished = time.monotonic()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo shop ready in {finished - started:.1f}s ({time.process_time() - cpu_started:.1f}s of CPU in this process) "
                f"(read {parsed - started:.1f}s, shop data and accounts {loaded - parsed:.1f}s, purchase events {finished - loaded:.1f}s)."
            )
        )
