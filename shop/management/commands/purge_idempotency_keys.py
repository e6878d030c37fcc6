"""Delete stored first responses of `Idempotency-Key` requests older than a number of hours."""
from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from shop.models import IdempotencyRecord


class Command(BaseCommand):
    help = (
        "Delete idempotency records (the first answer to a request sent with an Idempotency-Key) older than "
        "HOURS hours. A client retrying with an older key after that gets a fresh request."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", default="24", metavar="HOURS", help="age in hours (default 24)")

    def handle(self, *args, older_than: str, **options):
        try:
            hours = int(older_than)
        except ValueError:
            raise CommandError(f"--older-than must be a whole number of hours, not {older_than!r}.") from None
        if hours < 1:
            raise CommandError(f"--older-than must be at least 1 hour, not {hours}.")
        cutoff = timezone.now() - timedelta(hours=hours)
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} idempotency record(s) older than {hours} hour(s)."))
