"""Turn the shop's stored orders into purchase events, once per order (the demo loader runs it)."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from ai.tracking import backfill_purchase_events


class Command(BaseCommand):
    help = "Create purchase events, with their real times, for every order that has none yet (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, no_progress: bool, **options):
        created = backfill_purchase_events(progress=not no_progress and options["verbosity"] > 0)
        self.stdout.write(self.style.SUCCESS(f"Created {created} purchase event(s)."))
