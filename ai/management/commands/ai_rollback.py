"""python manage.py ai_rollback KIND"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ai import registry


class Command(BaseCommand):
    help = "Make the version that was live before the current one live again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind")

    def handle(self, *args, kind: str, **kwargs) -> None:
        try:
            version = registry.rollback(kind)
        except registry.RegistryError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"{version.kind} rolled back: v{version.version} is live"))
