"""The demo's known accounts: a staff user, one real customer with a password, and a merchant API key.

API keys are stored hashed, so the demo key's raw value is kept in a file under var/ (git-ignored)
for `demo_credentials` to print again. If that file is lost, the old demo key is revoked and a new
one made, so the printed key always works.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from shop.demo.loader import CUSTOMER_PREFIX, MERCHANT_SLUG
from shop.models import ApiKey, Merchant, OrderStatus
from shop.services.api_keys import create_api_key, find_active_key

STAFF_USERNAME = "staff"
STAFF_PASSWORD = "aisle-staff"
DEMO_CUSTOMER_PASSWORD = "aisle-demo"
DEMO_KEY_NAME = "demo"
# The demo customer: the customer with the most delivered orders up to this many (a history that is
# rich but still reads well on one page), ties broken by the number of different products bought.
DEMO_CUSTOMER_MAX_ORDERS = 30


@dataclass(frozen=True)
class DemoKey:
    raw_key: str
    created: bool


def key_file() -> Path:
    return Path(getattr(settings, "DEMO_API_KEY_FILE", settings.BASE_DIR / "var" / "demo_api_key.txt"))


def ensure_staff(merchant: Merchant):
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=STAFF_USERNAME, defaults={"email": "staff@aisle.example"})
    if not (user.is_staff and user.is_superuser and user.is_active) or not user.check_password(STAFF_PASSWORD):
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(STAFF_PASSWORD)
        user.save()
    merchant.users.add(user)
    return user


def _customers():
    return get_user_model().objects.filter(username__startswith=CUSTOMER_PREFIX)


def current_demo_customer():
    """The customer account that has a usable password (only the demo customer has one)."""
    return _customers().exclude(password__startswith="!").order_by("username").first()


def choose_demo_customer():
    delivered = Q(orders__status=OrderStatus.DELIVERED)
    return (
        _customers()
        .annotate(
            delivered=Count("orders", filter=delivered, distinct=True),
            products=Count("orders__lines__product", filter=delivered, distinct=True),
        )
        .filter(delivered__gt=0, delivered__lte=DEMO_CUSTOMER_MAX_ORDERS)
        .order_by("-delivered", "-products", "username")
        .first()
    ) or _customers().annotate(delivered=Count("orders")).filter(delivered__gt=0).order_by("-delivered", "username").first()


def ensure_demo_customer():
    """Give the chosen customer the known password; any earlier demo customer loses it."""
    chosen = choose_demo_customer()
    if chosen is None:
        return None
    for previous in _customers().exclude(password__startswith="!").exclude(pk=chosen.pk):
        previous.set_unusable_password()
        previous.save(update_fields=["password"])
    if not chosen.check_password(DEMO_CUSTOMER_PASSWORD):
        chosen.set_password(DEMO_CUSTOMER_PASSWORD)
        chosen.save(update_fields=["password"])
    return chosen


def stored_demo_key() -> str | None:
    """The raw demo key from the file, if it is still an active demo key of the demo merchant."""
    path = key_file()
    if not path.is_file():
        return None
    raw_key = path.read_text().strip()
    api_key = find_active_key(raw_key) if raw_key else None
    if api_key is None or api_key.name != DEMO_KEY_NAME or api_key.merchant.slug != MERCHANT_SLUG:
        return None
    return raw_key


def ensure_demo_api_key(merchant: Merchant) -> DemoKey:
    raw_key = stored_demo_key()
    active = ApiKey.objects.filter(merchant=merchant, name=DEMO_KEY_NAME, revoked_at__isnull=True)
    if raw_key is not None and active.exists():
        return DemoKey(raw_key, created=False)
    # No active demo key, or its raw value is lost: replace it.
    active.update(revoked_at=timezone.now())
    _, raw_key = create_api_key(merchant, scope=ApiKey.Scope.AI, name=DEMO_KEY_NAME)
    path = key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(raw_key + "\n")
    path.chmod(0o600)
    return DemoKey(raw_key, created=True)
