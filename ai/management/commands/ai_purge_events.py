"""Delete behaviour events older than a number of days (data retention)."""
from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ai.models import Event


def positive_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise CommandError(f"--older-than must be a whole number of days, not {value!r}.") from None
    if days < 1:
        raise CommandError(f"--older-than must be at least 1 day, not {days}.")
    return days


class Command(BaseCommand):
    help = "Delete behaviour events (views, searches, purchases…) recorded more than DAYS days ago."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", required=True, metavar="DAYS", help="age in days (at least 1)")
        parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")

    def handle(self, *args, older_than: str, dry_run: bool, **options):
        days = positive_days(older_than)
        cutoff = timezone.now() - timedelta(days=days)
        old = Event.objects.filter(created_at__lt=cutoff)
        if dry_run:
            self.stdout.write(f"{old.count()} event(s) older than {days} day(s) would be deleted (before {cutoff:%Y-%m-%d %H:%M %Z}).")
            return
        # Nothing depends on an Event row, so Django issues one DELETE without loading the rows.
        deleted, _ = old.delete()
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} event(s) older than {days} day(s) (before {cutoff:%Y-%m-%d %H:%M %Z})."))
