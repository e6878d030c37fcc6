"""`python manage.py create_api_key MERCHANT_SLUG [--scope read|write|ai] [--name NAME]`.

Prints the new key alone on the last line (it is stored hashed and cannot be shown again)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from shop.models import ApiKey, Merchant
from shop.services.api_keys import create_api_key


class Command(BaseCommand):
    help = "Create an API key for a merchant and print it (shown once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("merchant", metavar="MERCHANT_SLUG")
        parser.add_argument("--scope", choices=ApiKey.Scope.values, default=ApiKey.Scope.READ,
                            help="read (default), write (implies read) or ai (implies write).")
        parser.add_argument("--name", default="", help="A label to recognise the key by (at most 100 characters).")

    def handle(self, *args, merchant: str, scope: str, name: str, **options) -> None:
        found = Merchant.objects.filter(slug=merchant).first()
        if found is None:
            known = ", ".join(Merchant.objects.order_by("slug").values_list("slug", flat=True)[:10]) or "none yet"
            raise CommandError(f"No merchant with the slug {merchant!r} (merchants: {known}).")
        if len(name) > 100:
            raise CommandError("--name is at most 100 characters.")
        api_key, raw_key = create_api_key(found, scope=scope, name=name)
        self.stdout.write(f"Created a {scope} key {api_key.prefix}… for {found.name}. Store it now: it is not shown again.")
        self.stdout.write(raw_key)
