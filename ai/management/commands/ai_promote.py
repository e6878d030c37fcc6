"""python manage.py ai_promote KIND VERSION"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ai import registry
from ai.models import ModelVersion


class Command(BaseCommand):
    help = "Make a version of a model kind live (its artifact is verified first); the previous live one is retired."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind")
        parser.add_argument("version", type=int, help="the version number (as in `v3`, without the v)")

    def handle(self, *args, kind: str, version: int, **kwargs) -> None:
        try:
            target = ModelVersion.objects.get(kind=kind, version=version)
        except ModelVersion.DoesNotExist:
            known = ", ".join(f"v{n}" for n in ModelVersion.objects.filter(kind=kind).values_list("version", flat=True))
            raise CommandError(f"No {kind} v{version} (versions: {known or 'none'})") from None
        try:
            target = registry.promote(target)
        except registry.RegistryError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"{target.kind} v{target.version} is live"))
