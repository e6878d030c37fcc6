"""Send the daily low-stock e-mail to the staff who opted in (at most once a day each)."""
from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from shop.services.low_stock_digest import send_digests


class Command(BaseCommand):
    help = (
        "E-mail each staff member who opted in to a merchant's low-stock digest the products at or below their "
        "reorder point, with the suggested order quantities. Idempotent: nobody gets two digests for one day. "
        "Celery beat runs it every morning (shop.tasks.send_low_stock_digest)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the day the digest is for, YYYY-MM-DD (default: today)")
        parser.add_argument("--dry-run", action="store_true", help="print the e-mails instead of sending them")

    def handle(self, *args, date: str | None = None, dry_run: bool = False, **options):
        day = self.parse_day(date)
        run, digests = send_digests(day, dry_run=dry_run)
        if dry_run:
            for digest in digests:
                self.stdout.write(f"To: {digest.to}\nSubject: {digest.subject}\n\n{digest.body}")
            self.stdout.write(f"Dry run: {len(digests)} digest(s) for {run.day} not sent.")
            return
        self.stdout.write(self.style.SUCCESS(
            f"Low-stock digests for {run.day}: {len(run.sent)} sent, {len(run.already_sent)} already sent for that day, "
            f"{len(run.nothing_due)} with nothing to reorder."
        ))

    @staticmethod
    def parse_day(value: str | None) -> date | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise CommandError(f"--date must look like 2026-12-02, not {value!r}.") from None
