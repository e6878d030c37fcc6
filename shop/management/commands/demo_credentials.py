"""Print how to sign in to the demo shop and call its API."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from shop.demo import accounts
from shop.demo.loader import MERCHANT_NAME

URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "Print the demo shop's URL, the staff and demo-customer logins, and the demo merchant API key."

    def handle(self, *args, **options) -> None:
        write = self.stdout.write
        customer = accounts.current_demo_customer()
        raw_key = accounts.stored_demo_key()
        if customer is None and raw_key is None:
            write(self.style.WARNING("No demo shop here yet: run `python manage.py load_demo` first."))
            return
        orders = customer.orders.count() if customer else 0
        write(f"Aisle demo shop: {URL}")
        write(f"  Staff (admin at {URL}/admin/): username {accounts.STAFF_USERNAME}  password {accounts.STAFF_PASSWORD}")
        if customer:
            write(
                f"  Demo customer ({orders} order{'s' if orders != 1 else ''} in their history): "
                f"username {customer.username}  password {accounts.DEMO_CUSTOMER_PASSWORD}"
            )
        if raw_key:
            write(f"  API key of the merchant {MERCHANT_NAME} (scope ai): {raw_key}")
            write(f'    curl -H "Authorization: Bearer {raw_key}" {URL}/api/v1/products/')
        else:
            write(self.style.WARNING("  No demo API key stored: run `python manage.py load_demo` again to make one."))
