"""Print how to sign in to the demo shop and call its API."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from shop.demo import accounts
from shop.demo.loader import MERCHANT_NAME


class Command(BaseCommand):
    help = "Print the demo shop's URL, the staff and demo-customer logins, and the demo merchant API key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="the host the server listens on (make demo's HOST)")
        parser.add_argument("--port", type=int, default=8000, help="the port the server listens on (make demo's PORT)")

    def handle(self, *args, **options) -> None:
        write = self.stdout.write
        host = options["host"]
        if host in {"0.0.0.0", "::", ""}:
            host = "127.0.0.1"  # listening on every interface: this machine answers on loopback
        url = f"http://{host}:{options['port']}"
        customer = accounts.current_demo_customer()
        raw_key = accounts.stored_demo_key()
        if customer is None and raw_key is None:
            write(self.style.WARNING("No demo shop here yet: run `.venv/bin/python manage.py load_demo` first."))
            return
        orders = customer.orders.count() if customer else 0
        write(f"Aisle demo shop: {url}")
        write(f"  Staff (admin at {url}/admin/): username {accounts.STAFF_USERNAME}  password {accounts.STAFF_PASSWORD}")
        if customer:
            write(
                f"  Demo customer ({orders} order{'s' if orders != 1 else ''} in their history): "
                f"username {customer.username}  password {accounts.DEMO_CUSTOMER_PASSWORD}"
            )
        if raw_key:
            write(f"  API key of the merchant {MERCHANT_NAME} (scope ai): {raw_key}")
            write(f'    curl -H "Authorization: Bearer {raw_key}" {url}/api/v1/products/')
        else:
            write(self.style.WARNING("  No demo API key stored: run `.venv/bin/python manage.py load_demo` again to make one."))
